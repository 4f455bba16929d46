//! Outbound HTTP proxies: which proxy (if any) a request to a URL goes through, resolved from
//! the `proxy` / `no_proxy` config keys, then `HH_HTTPS_PROXY` / `HH_HTTP_PROXY` /
//! `HH_NO_PROXY`, then the usual `https_proxy` / `http_proxy` / `all_proxy` / `no_proxy`
//! variables (lower case preferred over upper case, as curl and Python do).
//!
//! The decision is made here, by [`ProxySettings::proxy_for`], both for the requests (through
//! `reqwest::Proxy::custom`) and for the line the tracer prints at init, so the two agree.
//! An https:// target is reached through a CONNECT tunnel (the proxy sees only the host name);
//! an http:// target is sent to the proxy in the clear, as the user chose plain http.

use crate::error::{Error, Result};
use std::fmt;
use std::net::IpAddr;
use url::{Host, Url};

/// One proxy URL and the setting it came from (named in messages and in the init line).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ProxyUrl {
    url: Url,
    origin: &'static str,
}

impl ProxyUrl {
    fn parse(origin: &'static str, text: &str) -> Result<ProxyUrl> {
        let text = text.trim();
        // `host:port` without a scheme means an HTTP proxy (curl and Python read it so).
        let with_scheme = if text.contains("://") {
            text.to_string()
        } else {
            format!("http://{text}")
        };
        // The value may hold a password: messages describe it, never repeat it.
        let invalid = || {
            Error::config(
                origin,
                "is not a proxy URL (expected http://[user:password@]host:port)",
            )
        };
        let url = Url::parse(&with_scheme).map_err(|_| invalid())?;
        match url.scheme() {
            "http" | "https" => {}
            s if s.starts_with("socks") => {
                return Err(Error::config(
                    origin,
                    "SOCKS proxies are not supported (use an HTTP proxy: http://host:port)",
                ))
            }
            _ => return Err(invalid()),
        }
        if url.host().is_none() || url.port_or_known_default().is_none() {
            return Err(invalid());
        }
        Ok(ProxyUrl { url, origin })
    }

    /// The URL for the connector (credentials included).
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The setting it came from (`proxy`, `HTTPS_PROXY`, ...).
    pub fn origin(&self) -> &'static str {
        self.origin
    }

    /// The URL without its credentials (`http://<redacted>@host:port`).
    pub fn display(&self) -> String {
        let host = self.url.host_str().unwrap_or("");
        let port = self.url.port().map(|p| format!(":{p}")).unwrap_or_default();
        let creds = if self.url.username().is_empty() && self.url.password().is_none() {
            ""
        } else {
            "<redacted>@"
        };
        format!("{}://{creds}{host}{port}", self.url.scheme())
    }

    /// The user name and password, raw and percent-decoded: secrets for the logger.
    fn credentials(&self) -> Vec<String> {
        let mut out = Vec::new();
        for part in [self.url.username(), self.url.password().unwrap_or("")] {
            if part.is_empty() {
                continue;
            }
            out.push(part.to_string());
            if let Ok(decoded) = percent_decode(part) {
                out.push(decoded);
            }
        }
        out
    }
}

impl fmt::Debug for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (from {})", self.display(), self.origin)
    }
}

fn percent_decode(s: &str) -> std::result::Result<String, ()> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3).ok_or(())?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| ())?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| ())
}

/// Hosts reached directly whatever the proxy (`no_proxy`): `*` (everything), a domain and its
/// subdomains (`example.com`, `.example.com`, `*.example.com`), an IP address or a CIDR range
/// (`10.0.0.0/8`), each optionally with `:port`; separated by commas or spaces.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct NoProxy {
    text: String,
    origin: &'static str,
    all: bool,
    rules: Vec<Rule>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Rule {
    Domain(String, Option<u16>),
    Net(IpAddr, u8, Option<u16>),
}

impl NoProxy {
    fn parse(origin: &'static str, text: &str) -> NoProxy {
        let mut out = NoProxy {
            text: text.trim().to_string(),
            origin,
            ..NoProxy::default()
        };
        for entry in text.split([',', ' ', '\t']).map(str::trim) {
            if entry.is_empty() {
                continue;
            }
            if entry == "*" {
                out.all = true;
            } else if let Some(rule) = Rule::parse(entry) {
                out.rules.push(rule);
            }
        }
        out
    }

    fn matches(&self, host: &Host<&str>, port: u16) -> bool {
        self.all || self.rules.iter().any(|r| r.matches(host, port))
    }
}

impl fmt::Debug for NoProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} (from {})", self.text, self.origin)
    }
}

impl Rule {
    fn parse(entry: &str) -> Option<Rule> {
        let (addr, port) = split_port(entry);
        if let Some((ip, bits)) = addr.split_once('/') {
            let ip: IpAddr = ip.trim_matches(['[', ']']).parse().ok()?;
            let bits: u8 = bits.parse().ok()?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            return (bits <= max).then_some(Rule::Net(ip, bits, port));
        }
        if let Ok(ip) = addr.trim_matches(['[', ']']).parse::<IpAddr>() {
            let bits = if ip.is_ipv4() { 32 } else { 128 };
            return Some(Rule::Net(ip, bits, port));
        }
        let domain = addr
            .trim_start_matches("*.")
            .trim_start_matches('.')
            .trim_end_matches('.')
            .to_ascii_lowercase();
        (!domain.is_empty()).then_some(Rule::Domain(domain, port))
    }

    fn matches(&self, host: &Host<&str>, port: u16) -> bool {
        match self {
            Rule::Domain(d, p) => {
                let Host::Domain(h) = host else {
                    return false;
                };
                let h = h.trim_end_matches('.').to_ascii_lowercase();
                let name_ok = h == *d
                    || h.strip_suffix(d.as_str())
                        .is_some_and(|rest| rest.ends_with('.'));
                name_ok && p.is_none_or(|p| p == port)
            }
            Rule::Net(net, bits, p) => {
                let ip = match host {
                    Host::Ipv4(a) => IpAddr::V4(*a),
                    Host::Ipv6(a) => IpAddr::V6(*a),
                    Host::Domain(_) => return false,
                };
                in_net(ip, *net, *bits) && p.is_none_or(|p| p == port)
            }
        }
    }
}

/// `host:port`, `[v6]:port` or a bare address (a bare IPv6 address has colons but no port).
fn split_port(entry: &str) -> (&str, Option<u16>) {
    if let Some(rest) = entry.strip_prefix('[') {
        if let Some((addr, tail)) = rest.split_once(']') {
            let port = tail.strip_prefix(':').and_then(|p| p.parse().ok());
            return (addr, port);
        }
    }
    match entry.rsplit_once(':') {
        Some((addr, port)) if !addr.contains(':') => match port.parse() {
            Ok(p) => (addr, Some(p)),
            Err(_) => (entry, None),
        },
        _ => (entry, None),
    }
}

fn in_net(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// The config key a proxy may come from; proxies from the environment skip loopback.
const CONFIG_KEY: &str = "proxy";

/// A local collector or receiver is never sent through a proxy from the environment (a
/// company-wide `HTTP_PROXY` cannot reach this machine's loopback), as Go's HTTP client does;
/// the `proxy` key, set for this tracer, still applies (a local debugging proxy).
fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(d) => {
            let d = d.trim_end_matches('.');
            d.eq_ignore_ascii_case("localhost") || d.to_ascii_lowercase().ends_with(".localhost")
        }
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => ip.is_loopback(),
    }
}

/// A tracer's proxy settings; tracers with equal settings share one HTTP client.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ProxySettings {
    pub http: Option<ProxyUrl>,
    pub https: Option<ProxyUrl>,
    pub no_proxy: NoProxy,
}

impl ProxySettings {
    /// Resolves the settings: the config's `proxy` / `no_proxy` (given here), else the
    /// environment through `env`.
    pub fn resolve(
        proxy: Option<&str>,
        no_proxy: Option<&str>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<ProxySettings> {
        let first = |names: &[&'static str]| {
            names
                .iter()
                .find_map(|n| env(n).filter(|v| !v.trim().is_empty()).map(|v| (*n, v)))
        };
        // Under CGI, `HTTP_PROXY` can be set by a client's `Proxy:` request header.
        let cgi = env("REQUEST_METHOD").is_some();
        let http_names: &[&'static str] = if cgi {
            &["HH_HTTP_PROXY", "http_proxy", "all_proxy", "ALL_PROXY"]
        } else {
            &[
                "HH_HTTP_PROXY",
                "http_proxy",
                "HTTP_PROXY",
                "all_proxy",
                "ALL_PROXY",
            ]
        };
        let https_names: &[&'static str] = &[
            "HH_HTTPS_PROXY",
            "https_proxy",
            "HTTPS_PROXY",
            "all_proxy",
            "ALL_PROXY",
        ];
        let (http, https) = match proxy.filter(|p| !p.trim().is_empty()) {
            Some(p) => {
                let url = ProxyUrl::parse(CONFIG_KEY, p)?;
                (Some(url.clone()), Some(url))
            }
            None => (
                first(http_names)
                    .map(|(n, v)| ProxyUrl::parse(n, &v))
                    .transpose()?,
                first(https_names)
                    .map(|(n, v)| ProxyUrl::parse(n, &v))
                    .transpose()?,
            ),
        };
        let no_proxy = match no_proxy.filter(|p| !p.trim().is_empty()) {
            Some(list) => NoProxy::parse("no_proxy", list),
            None => first(&["HH_NO_PROXY", "no_proxy", "NO_PROXY"])
                .map(|(n, v)| NoProxy::parse(n, &v))
                .unwrap_or_default(),
        };
        Ok(ProxySettings {
            http,
            https,
            no_proxy,
        })
    }

    /// The proxy a request to `target` goes through, or `None` for a direct connection.
    pub fn proxy_for(&self, target: &Url) -> Option<&ProxyUrl> {
        let proxy = match target.scheme() {
            "https" => self.https.as_ref()?,
            "http" => self.http.as_ref()?,
            _ => return None,
        };
        let host = target.host()?;
        let port = target.port_or_known_default()?;
        if proxy.origin != CONFIG_KEY && is_loopback(&host) {
            return None;
        }
        (!self.no_proxy.matches(&host, port)).then_some(proxy)
    }

    /// No proxy at all (the common case: one shared client).
    pub fn is_direct(&self) -> bool {
        self.http.is_none() && self.https.is_none()
    }

    /// The proxies for `reqwest::ClientBuilder::proxy` (none when direct).
    pub fn reqwest_proxies(&self) -> Vec<reqwest::Proxy> {
        if self.is_direct() {
            return Vec::new();
        }
        let settings = self.clone();
        vec![reqwest::Proxy::custom(move |target| {
            settings.proxy_for(target).map(|p| p.url().clone())
        })]
    }

    /// How a request to `url` travels, for the init line: `through proxy ... (from ...)`
    /// or `direct (... matches no_proxy from ...)`; `None` when no proxy is configured.
    pub fn route(&self, url: &str) -> Option<String> {
        if self.is_direct() {
            return None;
        }
        let target = Url::parse(url).ok()?;
        let shown = format!(
            "{}://{}",
            target.scheme(),
            target.host_str().unwrap_or_default()
        );
        Some(match self.proxy_for(&target) {
            Some(p) => format!(
                "requests to {shown} go through proxy {} (from {}){}",
                p.display(),
                p.origin(),
                if target.scheme() == "https" {
                    " in a CONNECT tunnel"
                } else {
                    ""
                }
            ),
            None if self.no_proxy.matches(
                &target.host().unwrap_or(Host::Domain("")),
                target.port_or_known_default().unwrap_or(0),
            ) =>
            {
                format!(
                    "requests to {shown} go direct ({} excludes it)",
                    self.no_proxy.origin
                )
            }
            None if target.host().is_some_and(|h| is_loopback(&h))
                && match target.scheme() {
                    "https" => self.https.is_some(),
                    _ => self.http.is_some(),
                } =>
            {
                format!(
                "requests to {shown} go direct (loopback, never sent to a proxy from the environment)"
                )
            }
            None => format!(
                "requests to {shown} go direct (no proxy set for {})",
                target.scheme()
            ),
        })
    }

    /// Credentials in the proxy URLs: never printed.
    pub fn secrets(&self) -> Vec<String> {
        [&self.http, &self.https]
            .into_iter()
            .flatten()
            .flat_map(ProxyUrl::credentials)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn resolve(
        proxy: Option<&str>,
        no_proxy: Option<&str>,
        env: &[(&str, &str)],
    ) -> Result<ProxySettings> {
        let map: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ProxySettings::resolve(proxy, no_proxy, &move |n| map.get(n).cloned())
    }

    fn via(s: &ProxySettings, url: &str) -> Option<String> {
        s.proxy_for(&Url::parse(url).unwrap())
            .map(|p| format!("{} {}", p.display(), p.origin()))
    }

    #[test]
    fn nothing_set_means_direct() {
        let s = resolve(None, None, &[]).unwrap();
        assert!(s.is_direct());
        assert!(s.reqwest_proxies().is_empty());
        assert_eq!(via(&s, "https://api.example.com"), None);
        assert_eq!(s.route("https://api.example.com"), None);
    }

    #[test]
    fn scheme_picks_the_variable_and_hh_wins() {
        let env = [
            ("HTTPS_PROXY", "http://corp:3128"),
            ("HTTP_PROXY", "http://plain:8080"),
        ];
        let s = resolve(None, None, &env).unwrap();
        assert_eq!(
            via(&s, "https://api.example.com").as_deref(),
            Some("http://corp:3128 HTTPS_PROXY")
        );
        assert_eq!(
            via(&s, "http://collector:4318").as_deref(),
            Some("http://plain:8080 HTTP_PROXY")
        );
        let mut env = env.to_vec();
        env.push(("HH_HTTPS_PROXY", "hh-proxy:9000"));
        env.push(("https_proxy", "http://lower:1"));
        let s = resolve(None, None, &env).unwrap();
        assert_eq!(
            via(&s, "https://api.example.com").as_deref(),
            Some("http://hh-proxy:9000 HH_HTTPS_PROXY")
        );
        env.retain(|(k, _)| *k != "HH_HTTPS_PROXY");
        let s = resolve(None, None, &env).unwrap();
        assert_eq!(
            via(&s, "https://api.example.com").as_deref(),
            Some("http://lower:1 https_proxy")
        );
    }

    #[test]
    fn config_key_wins_over_every_variable() {
        let env = [
            ("HH_HTTPS_PROXY", "http://hh:1"),
            ("HTTP_PROXY", "http://env:2"),
            ("NO_PROXY", "*"),
        ];
        let s = resolve(Some("http://cfg:3"), Some("internal.example"), &env).unwrap();
        assert_eq!(
            via(&s, "https://api.example.com").as_deref(),
            Some("http://cfg:3 proxy")
        );
        assert_eq!(
            via(&s, "http://api.example.com").as_deref(),
            Some("http://cfg:3 proxy")
        );
        assert_eq!(via(&s, "https://a.internal.example"), None);
        // `no_proxy: "*"` in the config turns every proxy of the environment off.
        let s = resolve(None, Some("*"), &env).unwrap();
        assert_eq!(via(&s, "https://api.example.com"), None);
    }

    #[test]
    fn no_proxy_forms() {
        let s = resolve(
            Some("http://p:1"),
            Some("example.com, .corp.internal *.svc 10.0.0.0/8,[::1],127.0.0.1:4318,localhost"),
            &[],
        )
        .unwrap();
        for direct in [
            "https://example.com",
            "https://API.Example.com.",
            "https://x.corp.internal",
            "https://corp.internal",
            "https://a.b.svc",
            "http://10.1.2.3:80",
            "http://[::1]:8080",
            "http://127.0.0.1:4318",
            "http://localhost:1",
        ] {
            assert_eq!(via(&s, direct), None, "{direct} should go direct");
        }
        for proxied in [
            "https://notexample.com",
            "https://example.com.evil.net",
            "http://11.0.0.1",
            "http://127.0.0.1:4317",
            "http://[::2]",
            "http://localhost.example.net",
        ] {
            assert!(via(&s, proxied).is_some(), "{proxied} should use the proxy");
        }
    }

    #[test]
    fn loopback_skips_proxies_from_the_environment_only() {
        let env = [
            ("HTTP_PROXY", "http://corp:1"),
            ("HTTPS_PROXY", "http://corp:1"),
        ];
        let s = resolve(None, None, &env).unwrap();
        for local in [
            "http://127.0.0.1:4318",
            "http://localhost:4318",
            "https://[::1]:1",
            "http://127.1.2.3",
        ] {
            assert_eq!(via(&s, local), None, "{local}");
        }
        assert!(via(&s, "http://localhost.example.net").is_some());
        assert_eq!(
            s.route("http://localhost:4318").as_deref(),
            Some("requests to http://localhost go direct (loopback, never sent to a proxy from the environment)")
        );
        let s = resolve(Some("http://127.0.0.1:8888"), None, &env).unwrap();
        assert!(via(&s, "http://127.0.0.1:4318").is_some());
    }

    #[test]
    fn cgi_ignores_upper_case_http_proxy() {
        let s = resolve(
            None,
            None,
            &[
                ("HTTP_PROXY", "http://from-client:1"),
                ("REQUEST_METHOD", "GET"),
            ],
        )
        .unwrap();
        assert_eq!(via(&s, "http://collector"), None);
    }

    #[test]
    fn bad_values_name_their_setting_and_never_repeat_a_password() {
        for (env, name) in [
            ("socks5://u:hunter2pass@h:1080", "HTTPS_PROXY"),
            ("http://u:hunter2pass@", "HTTPS_PROXY"),
            ("ftp://u:hunter2pass@h", "HTTPS_PROXY"),
        ] {
            let e = resolve(None, None, &[(name, env)]).unwrap_err();
            assert!(e.message.contains(name), "{}", e.message);
            assert!(!e.message.contains("hunter2"), "{}", e.message);
        }
        let e = resolve(Some("socks5h://h"), None, &[]).unwrap_err();
        assert!(e.message.contains("`proxy`") && e.message.contains("SOCKS"));
    }

    #[test]
    fn credentials_are_secrets_and_never_displayed() {
        let s = resolve(
            Some("http://alice:p%40ss-w0rd-9@proxy.corp:3128"),
            None,
            &[],
        )
        .unwrap();
        let shown = s.route("https://api.example.com").unwrap();
        assert_eq!(
            shown,
            "requests to https://api.example.com go through proxy \
             http://<redacted>@proxy.corp:3128 (from proxy) in a CONNECT tunnel"
        );
        let secrets = s.secrets();
        assert!(secrets.contains(&"p%40ss-w0rd-9".to_string()));
        assert!(secrets.contains(&"p@ss-w0rd-9".to_string()));
        assert!(secrets.contains(&"alice".to_string()));
        assert!(!format!("{s:?}").contains("w0rd"));
    }

    #[test]
    fn routes_say_why_they_go_direct() {
        let s = resolve(
            None,
            None,
            &[("HTTPS_PROXY", "p:1"), ("NO_PROXY", "10.0.0.1")],
        )
        .unwrap();
        assert_eq!(
            s.route("https://10.0.0.1:9").as_deref(),
            Some("requests to https://10.0.0.1 go direct (NO_PROXY excludes it)")
        );
        assert_eq!(
            s.route("http://example.com").as_deref(),
            Some("requests to http://example.com go direct (no proxy set for http)")
        );
    }
}
