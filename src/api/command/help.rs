//! The `help` answer: every command of the language, one line each.

/// The `help` text.
pub const HELP: &str = "\
commands (one per line; add 'json' to show/version for JSON output):
  announce route PREFIX next-hop (self|ADDR) [origin igp|egp|incomplete] [as-path [ASN ...]]
      [med N] [local-preference N] [community [A:B no-export ...]] [large-community [A:B:C ...]]
      [extended-community [target:A:B origin:A:B ...]] [atomic-aggregate] [aggregator (ASN:IP)]
      [originator-id IP] [cluster-list [IP ...]]
  withdraw route PREFIX
  announce attributes ATTRIBUTES... nlri PREFIX [PREFIX ...]
  withdraw attributes [ATTRIBUTES...] nlri PREFIX [PREFIX ...]
  neighbor ADDR[,ADDR] [local-as N ...] announce|withdraw ...   (only these neighbors)
  peer ADDR[,ADDR]|[ ADDR ... ]|* announce|withdraw ...   (the same; * is every neighbor)
  show neighbor [summary|extensive|configuration] [ADDR]
  show adj-rib in|out [ADDR] [extensive]
  show metrics                         (Prometheus text, as on exabgp_metrics_listen)
  flush adj-rib out
  clear adj-rib [in|out]
  teardown ADDR [CEASE-SUBCODE]        (also: neighbor ADDR teardown CODE)
  session ack enable|disable|silence   (done/error lines to this helper; also enable-ack ...)
  restart --hitless                    (under systemd: sessions handed to the next process, exit 75)
  reload | restart | shutdown | version | help";
