//! The HTTP clients of the process: one without a proxy, and one per proxy setting in use (built
//! with the shared runtime, see `crate::runtime`).

use std::sync::Arc;

/// Builds the client every export and session call goes through.
///
/// Redirects are never followed: a 3xx answer is a failed request (see `super::send`). Following
/// one would turn an export POST into a body-less GET (whose 200 would count as delivered), or
/// re-send the spans and every header, keys included, to whatever origin the `Location` names.
pub fn build_http_client(proxy: &crate::proxy::ProxySettings) -> Result<reqwest::Client, String> {
    use rustls_platform_verifier::BuilderVerifierExt;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?
        .with_platform_verifier()
        .map_err(|e| format!("TLS certificate verifier: {e}"))?
        .with_no_client_auth();
    let mut builder = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .redirect(reqwest::redirect::Policy::none())
        .pool_idle_timeout(std::time::Duration::from_secs(30))
        .pool_max_idle_per_host(4)
        // reqwest's own reading of the environment is off: `crate::proxy` decides.
        .no_proxy();
    for p in proxy.reqwest_proxies() {
        builder = builder.proxy(p);
    }
    builder.build().map_err(|e| format!("HTTP client: {e}"))
}
