# The one install recipe of exabgp-rs. debian/rules and rpm/exabgp-rs.spec both call
# `make install`, so the list of installed files exists only here (FILES below, plus
# every page in docs/man/ and every completion in completions/).
#
#   make build                                  cargo build --release (CARGO_TARGET_DIR honoured)
#   make install DESTDIR=/tmp/root PREFIX=/usr  install the built files under DESTDIR
#   make uninstall                              remove them again
#
# Directories default to what pkg-config says for systemd (Debian 12:
# /lib/systemd/system, Fedora: /usr/lib/systemd/system), as the distribution's own
# packages use them; override any of them on the command line.
#
# Files under /etc/exabgp are installed 0640 (directory 0750) without changing their
# owner: user and group exabgp exist only once systemd-sysusers has run, so the
# packages give them to root:exabgp (debian/exabgp-rs.postinst with dpkg-statoverride,
# %attr in the spec). A hand install as root does it itself when the group exists.

PREFIX ?= /usr
SBINDIR ?= $(PREFIX)/sbin
BINDIR ?= $(PREFIX)/bin
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
DOCDIR ?= $(DATADIR)/doc/exabgp-rs
SYSCONFDIR ?= /etc
CONFDIR ?= $(SYSCONFDIR)/exabgp

pkgvar = $(or $(shell pkg-config --variable=$(2) $(1) 2>/dev/null),$(3))
SYSTEMD_UNIT_DIR ?= $(call pkgvar,systemd,systemdsystemunitdir,/usr/lib/systemd/system)
SYSUSERS_DIR ?= $(call pkgvar,systemd,sysusersdir,/usr/lib/sysusers.d)
TMPFILES_DIR ?= $(call pkgvar,systemd,tmpfilesdir,/usr/lib/tmpfiles.d)
CATALOG_DIR ?= $(call pkgvar,systemd,catalogdir,/usr/lib/systemd/catalog)
PRESET_DIR ?= $(call pkgvar,systemd,systemdsystempresetdir,/usr/lib/systemd/system-preset)
BASH_COMPLETION_DIR ?= $(call pkgvar,bash-completion,completionsdir,$(DATADIR)/bash-completion/completions)
# Fedora's zsh reads site-functions; Debian's reads vendor-completions (debian/rules).
ZSH_COMPLETION_DIR ?= $(DATADIR)/zsh/site-functions
FISH_COMPLETION_DIR ?= $(DATADIR)/fish/vendor_completions.d

CARGO ?= cargo
CARGO_TARGET_DIR ?= target
CARGO_FLAGS ?= --locked
PROFILE ?= release
BIN := $(CARGO_TARGET_DIR)/$(PROFILE)

INSTALL ?= install

# The installed files, one a line: MODE SOURCE DESTINATION (without DESTDIR).
# Man pages (docs/man/) and completions (completions/) are added below by name.
define FILES
0755 $(BIN)/exabgp                                  $(SBINDIR)/exabgp
0755 $(BIN)/exabgpcli                               $(BINDIR)/exabgpcli
0755 $(BIN)/exabgp-rollback                         $(SBINDIR)/exabgp-rollback
0644 systemd/exabgp@.service                        $(SYSTEMD_UNIT_DIR)/exabgp@.service
0644 systemd/exabgp@.socket                         $(SYSTEMD_UNIT_DIR)/exabgp@.socket
0644 systemd/exabgp-bgp@.socket                     $(SYSTEMD_UNIT_DIR)/exabgp-bgp@.socket
0644 systemd/exabgp-metrics@.socket                 $(SYSTEMD_UNIT_DIR)/exabgp-metrics@.socket
0644 systemd/exabgp.target                          $(SYSTEMD_UNIT_DIR)/exabgp.target
0644 systemd/sysusers.d/exabgp.conf                 $(SYSUSERS_DIR)/exabgp.conf
0644 systemd/tmpfiles.d/exabgp.conf                 $(TMPFILES_DIR)/exabgp.conf
0644 systemd/exabgp.catalog                         $(CATALOG_DIR)/exabgp.catalog
0644 systemd/exabgp-rs.preset                       $(PRESET_DIR)/80-exabgp-rs.preset
0640 examples/minimal.toml                          $(CONFDIR)/example.toml
0640 systemd/exabgp.env.example                     $(CONFDIR)/example.env
0644 README.md                                      $(DOCDIR)/README.md
0644 docs/configuration.md                          $(DOCDIR)/configuration.md
0644 docs/settings.md                               $(DOCDIR)/settings.md
0644 docs/api.md                                    $(DOCDIR)/api.md
0644 docs/systemd.md                                $(DOCDIR)/systemd.md
0644 docs/operations.md                             $(DOCDIR)/operations.md
0644 docs/monitoring.md                             $(DOCDIR)/monitoring.md
0644 systemd/exabgp-metrics@.socket.d-listen.conf.example $(DOCDIR)/exabgp-metrics@.socket.d-listen.conf.example
0644 monitoring/exabgp-rs.rules.yml                 $(DATADIR)/exabgp-rs/exabgp-rs.rules.yml
0644 monitoring/exabgp-rs.dashboard.json            $(DATADIR)/exabgp-rs/exabgp-rs.dashboard.json
0644 systemd/exabgp.env.example                     $(DOCDIR)/exabgp.env.example
0644 systemd/exabgp-bgp@.socket.d-listen.conf.example $(DOCDIR)/exabgp-bgp@.socket.d-listen.conf.example
0644 examples/minimal.toml                          $(DOCDIR)/examples/minimal.toml
0644 examples/dual-stack.toml                       $(DOCDIR)/examples/dual-stack.toml
0644 examples/healthcheck.toml                      $(DOCDIR)/examples/healthcheck.toml
$(foreach p,$(sort $(wildcard docs/man/*.8)),0644 $(p) $(MANDIR)/man8/$(notdir $(p))
)$(foreach p,$(sort $(wildcard docs/man/*.5)),0644 $(p) $(MANDIR)/man5/$(notdir $(p))
)$(foreach p,$(sort $(wildcard completions/*.bash)),0644 $(p) $(BASH_COMPLETION_DIR)/$(basename $(notdir $(p)))
)$(foreach p,$(sort $(wildcard completions/_*)),0644 $(p) $(ZSH_COMPLETION_DIR)/$(notdir $(p))
)$(foreach p,$(sort $(wildcard completions/*.fish)),0644 $(p) $(FISH_COMPLETION_DIR)/$(notdir $(p))
)
endef
export FILES

.PHONY: all build install uninstall list

all: build

build:
	CARGO_TARGET_DIR=$(CARGO_TARGET_DIR) $(CARGO) build $(CARGO_FLAGS) --profile $(PROFILE) --bins

# Print the installed paths, one a line (what `make install` creates under DESTDIR).
list:
	@printf '%s\n' "$$FILES" | awk 'NF == 3 { print $$3 }'

install:
	@for b in exabgp exabgpcli exabgp-rollback; do test -x $(BIN)/$$b || { echo "run 'make build' first ($(BIN)/$$b missing)" >&2; exit 1; }; done
	$(INSTALL) -d -m 0750 $(DESTDIR)$(CONFDIR)
	@printf '%s\n' "$$FILES" | while read -r mode src dst; do \
	    [ -n "$$mode" ] || continue; \
	    echo "  $$src -> $(DESTDIR)$$dst"; \
	    $(INSTALL) -D -m "$$mode" "$$src" "$(DESTDIR)$$dst" || exit 1; \
	done
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && getent group exabgp >/dev/null; then \
	    chgrp exabgp $(CONFDIR) $(CONFDIR)/example.toml $(CONFDIR)/example.env; \
	fi

uninstall:
	@printf '%s\n' "$$FILES" | while read -r mode src dst; do \
	    [ -n "$$dst" ] && rm -f "$(DESTDIR)$$dst"; \
	done; true
	-rmdir $(DESTDIR)$(CONFDIR) $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR) $(DESTDIR)$(DATADIR)/exabgp-rs 2>/dev/null
