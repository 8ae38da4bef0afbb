//! Talking to a running mock issuer: JSON over HTTP, tokens taken apart, a TLS client
//! trusting the issuer's CA.

use std::net::SocketAddr;

use mock_issuer::time::unix_now;
use serde_json::Value;

use super::{Expectation, WIDGETRY};

pub fn github_expectation<'a>(issuer: &'a str, jwks: &'a Value) -> Expectation<'a> {
    Expectation {
        issuer,
        audience: "pypi",
        jwks,
        now: unix_now(),
        publisher: Some(&WIDGETRY),
    }
}

pub async fn get_json(url: &str) -> (u16, Value) {
    let response = reqwest::get(url).await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

pub fn split(token: &str) -> (Value, Value, String) {
    use base64::Engine as _;
    let decode = |s: &str| -> Value {
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(s)
                .unwrap(),
        )
        .unwrap()
    };
    let parts: Vec<&str> = token.split('.').collect();
    (decode(parts[0]), decode(parts[1]), parts[2].to_owned())
}

pub fn tls_client(ca_pem: &str, resolve: &[(&str, SocketAddr)]) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap()]);
    for (host, addr) in resolve {
        builder = builder.resolve(host, *addr);
    }
    builder.build().unwrap()
}
