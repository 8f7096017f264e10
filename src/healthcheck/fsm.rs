//! The healthcheck state machine, as ExaBGP's healthcheck defines it, as a pure
//! function: (state, counter, this check's outcome) -> (state, counter, changed).
//!
//! ```text
//!            ok (rise<=1)                        ok x rise
//!   INIT ──────────────────────────▶ UP ◀──────────────── RISING ◀─┐
//!    │  ok ─────────────────────────────────────────────▶    ▲     │ ok
//!    │  fail ───────────▶ FALLING ── fail x fall ──▶ DOWN ───┘─────┘
//!    │                      ▲  │ ok ─▶ RISING          (UP: fail ─▶ FALLING)
//!   any state, disable file present ─▶ DISABLED ── file gone ─▶ INIT
//! ```
//!
//! Entering RISING with --rise <= 1 is entering UP, entering FALLING with
//! --fall <= 1 is entering DOWN. EXIT (signal: withdraw, remove our addresses) and
//! END (--interval 0: stop, leave everything) are reached from outside the machine.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Init,
    Disabled,
    Rising,
    Falling,
    Up,
    Down,
    Exit,
    End,
}

impl State {
    /// ExaBGP's name, also the value of STATE for --execute hooks.
    pub fn name(self) -> &'static str {
        match self {
            State::Init => "INIT",
            State::Disabled => "DISABLED",
            State::Rising => "RISING",
            State::Falling => "FALLING",
            State::Up => "UP",
            State::Down => "DOWN",
            State::Exit => "EXIT",
            State::End => "END",
        }
    }

    /// The states in which the routes are (re)sent.
    pub fn announces(self) -> bool {
        matches!(
            self,
            State::Up | State::Down | State::Disabled | State::Exit
        )
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where the machine is: the state and the checks counted toward --rise/--fall.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Machine {
    pub state: State,
    pub checks: u32,
}

/// One iteration's input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Input {
    /// The --disable file exists (the check was not run).
    pub disabled: bool,
    /// The check succeeded (ignored when disabled).
    pub ok: bool,
}

/// The result of one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub machine: Machine,
    /// A transition happened (hooks run for `machine.state`).
    pub changed: bool,
}

impl Machine {
    pub const START: Machine = Machine {
        state: State::Init,
        checks: 0,
    };

    /// One iteration with --rise `rise` and --fall `fall`.
    pub fn step(self, input: Input, rise: u32, fall: u32) -> Step {
        let go = |target: State, checks: u32| {
            let state = match target {
                State::Rising if rise <= 1 => State::Up,
                State::Falling if fall <= 1 => State::Down,
                s => s,
            };
            Step {
                machine: Machine { state, checks },
                changed: true,
            }
        };
        let stay = |checks: u32| Step {
            machine: Machine {
                state: self.state,
                checks,
            },
            changed: false,
        };
        let ok = input.ok;
        match self.state {
            s if s != State::Disabled && input.disabled => go(State::Disabled, self.checks),
            State::Init if ok && rise <= 1 => go(State::Up, self.checks),
            State::Init if ok => go(State::Rising, 1),
            State::Init => go(State::Falling, 1),
            State::Disabled if !input.disabled => go(State::Init, self.checks),
            State::Disabled => stay(self.checks),
            State::Rising if ok => {
                let n = self.checks.saturating_add(1);
                if n >= rise {
                    go(State::Up, n)
                } else {
                    stay(n)
                }
            }
            State::Rising => go(State::Falling, 1),
            State::Falling if !ok => {
                let n = self.checks.saturating_add(1);
                if n >= fall {
                    go(State::Down, n)
                } else {
                    stay(n)
                }
            }
            State::Falling => go(State::Rising, 1),
            State::Up if !ok => go(State::Falling, 1),
            State::Down if ok => go(State::Rising, 1),
            State::Up | State::Down | State::Exit | State::End => stay(self.checks),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: Input = Input {
        disabled: false,
        ok: true,
    };
    const FAIL: Input = Input {
        disabled: false,
        ok: false,
    };
    const DIS: Input = Input {
        disabled: true,
        ok: true,
    };

    fn m(state: State, checks: u32) -> Machine {
        Machine { state, checks }
    }

    fn run(inputs: &[Input], rise: u32, fall: u32) -> Vec<State> {
        let mut mach = Machine::START;
        inputs
            .iter()
            .map(|i| {
                mach = mach.step(*i, rise, fall).machine;
                mach.state
            })
            .collect()
    }

    #[test]
    fn init_transitions() {
        assert_eq!(Machine::START.step(OK, 3, 3).machine, m(State::Rising, 1));
        assert_eq!(Machine::START.step(OK, 1, 3).machine.state, State::Up);
        assert_eq!(
            Machine::START.step(FAIL, 3, 3).machine,
            m(State::Falling, 1)
        );
        assert_eq!(Machine::START.step(FAIL, 3, 1).machine.state, State::Down);
        assert_eq!(
            Machine::START.step(DIS, 3, 3).machine.state,
            State::Disabled
        );
    }

    #[test]
    fn rise_counts_successes_and_a_failure_restarts() {
        use State::*;
        assert_eq!(run(&[OK, OK, OK, OK], 3, 3), [Rising, Rising, Up, Up]);
        assert_eq!(run(&[OK, OK, FAIL], 3, 3), [Rising, Rising, Falling]);
        let s = m(Rising, 2).step(OK, 3, 3);
        assert_eq!((s.machine, s.changed), (m(Up, 3), true));
        let s = m(Rising, 1).step(OK, 3, 3);
        assert_eq!((s.machine, s.changed), (m(Rising, 2), false));
    }

    #[test]
    fn fall_counts_failures_and_a_success_restarts() {
        use State::*;
        assert_eq!(run(&[FAIL, FAIL, FAIL], 3, 3), [Falling, Falling, Down]);
        assert_eq!(run(&[FAIL, OK], 3, 3), [Falling, Rising]);
        assert_eq!(m(Falling, 1).step(OK, 1, 3).machine.state, Up);
        let s = m(Falling, 2).step(FAIL, 3, 3);
        assert_eq!((s.machine, s.changed), (m(Down, 3), true));
    }

    #[test]
    fn up_and_down() {
        use State::*;
        assert_eq!(
            m(Up, 3).step(OK, 3, 3),
            Step {
                machine: m(Up, 3),
                changed: false
            }
        );
        assert_eq!(m(Up, 3).step(FAIL, 3, 3).machine, m(Falling, 1));
        assert_eq!(m(Up, 3).step(FAIL, 3, 1).machine.state, Down);
        assert_eq!(
            m(Down, 3).step(FAIL, 3, 3),
            Step {
                machine: m(Down, 3),
                changed: false
            }
        );
        assert_eq!(m(Down, 3).step(OK, 3, 3).machine, m(Rising, 1));
        assert_eq!(m(Down, 3).step(OK, 1, 3).machine.state, Up);
    }

    #[test]
    fn disabled_from_everywhere_and_back_through_init() {
        use State::*;
        for s in [Init, Rising, Falling, Up, Down] {
            let st = m(s, 2).step(DIS, 3, 3);
            assert_eq!((st.machine.state, st.changed), (Disabled, true), "{s}");
        }
        assert!(!m(Disabled, 0).step(DIS, 3, 3).changed);
        let st = m(Disabled, 0).step(OK, 3, 3);
        assert_eq!((st.machine.state, st.changed), (Init, true));
        // A failing check right after the file is removed still goes through INIT.
        assert_eq!(m(Disabled, 0).step(FAIL, 3, 3).machine.state, Init);
        assert_eq!(run(&[DIS, OK, OK], 1, 1), [Disabled, Init, Up]);
    }

    #[test]
    fn announcing_states() {
        use State::*;
        for s in [Up, Down, Disabled, Exit] {
            assert!(s.announces());
        }
        for s in [Init, Rising, Falling, End] {
            assert!(!s.announces());
        }
    }
}
