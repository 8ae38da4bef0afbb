//! The legacy upload (spec §15) as a client sends it: the first line of the input is the
//! `Authorization` header, the rest the multipart body. Every request gets an answer that
//! is not a server error, and nothing uploads without a minted token.
#![no_main]

use std::sync::LazyLock;

use axum::body::Body;
use axum::http::{Request, header};
use libfuzzer_sys::fuzz_target;
use reference_registry::{FixtureDocument, Registry, RegistryConfig};
use tower::ServiceExt as _;

const BOUNDARY: &str = "mintcheck-fuzz";

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime")
});

static APP: LazyLock<axum::Router> = LazyLock::new(|| {
    let registry = Registry::new(RegistryConfig::default());
    let mut fixture = FixtureDocument::new();
    fixture.projects.push(reference_registry::fixture::Project {
        name: "widgetry".into(),
        id: None,
    });
    registry.apply(&fixture).expect("the fixture applies");
    reference_registry::app(registry)
});

fuzz_target!(|input: &[u8]| {
    let (authorization, body) = match input.iter().position(|&b| b == b'\n') {
        Some(at) => (&input[..at], &input[at + 1..]),
        None => (input, &[][..]),
    };
    let mut request = Request::post("/legacy/")
        .header(header::HOST, "127.0.0.1")
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        );
    if let Ok(value) = header::HeaderValue::from_bytes(authorization) {
        request = request.header(header::AUTHORIZATION, value);
    }
    let request = request.body(Body::from(body.to_vec())).expect("a request");
    let response = RUNTIME
        .block_on(APP.clone().oneshot(request))
        .expect("the router answers");
    let status = response.status().as_u16();
    assert!(status < 500, "HTTP {status}");
    // No API token was ever minted here, so no upload can succeed.
    assert_ne!(status, 200);
});
