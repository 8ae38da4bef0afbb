//! The minted token (spec §14) at the legacy upload endpoint (spec §15).

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use reference_registry::fixture::Provider;
use reference_registry::{ManualClock, NON_USER_CANNOT_CREATE};

use crate::support::{RawReply, Setup, Target, identity, project, publisher};

/// A minimal twine-like upload form.
pub fn form(fields: &[(&str, &str)], filename: &str, content: &[u8]) -> (String, Vec<u8>) {
    let boundary = "mintcheck-boundary-7d41";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"content\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

pub async fn upload_with(
    target: &Target,
    token: &str,
    fields: &[(&str, &str)],
    filename: &str,
    content: &[u8],
) -> RawReply {
    let (content_type, body) = form(fields, filename, content);
    let auth = format!("Basic {}", STANDARD.encode(format!("__token__:{token}")));
    target
        .raw_post(
            "/legacy/",
            &[("Content-Type", &content_type), ("Authorization", &auth)],
            &body,
        )
        .await
}

pub async fn upload(target: &Target, token: &str, name: &str, filename: &str) -> RawReply {
    let fields = [
        (":action", "file_upload"),
        ("protocol_version", "1"),
        ("name", name),
        ("version", "1.0"),
        ("filetype", "sdist"),
    ];
    upload_with(target, token, &fields, filename, filename.as_bytes()).await
}

fn status(reply: &RawReply) -> &str {
    &reply.status_line["HTTP/1.1 ".len()..]
}

#[tokio::test]
async fn r_tok_1_2_3_token_format() {
    let setup = Setup::standard(Provider::Github).await;
    let reply = setup.mint(setup.token()).await;
    let token = reply.assert_minted();
    // Minted via host pypi.org (the test client's Host is 127.0.0.1).
    assert!(token.starts_with("pypi-AgE"), "{token}");
    let raw = URL_SAFE_NO_PAD
        .decode(token.strip_prefix("pypi-").unwrap())
        .unwrap();
    let text = String::from_utf8_lossy(&raw);
    let expires = reply.json()["expires"].as_i64().unwrap();
    let t = expires - 900;
    let caveat_0 = text.find("[4,\"").expect("publisher caveat");
    let caveat_1 = text.find("[2,[\"").expect("project caveat");
    let caveat_2 = text
        .find(&format!("[0,{expires},{t}]"))
        .expect("expiration caveat");
    assert!(caveat_0 < caveat_1 && caveat_1 < caveat_2, "{text}");
    // End of caveats, then the signature field: type 6, length 32, 32 bytes.
    assert_eq!(
        raw[raw.len() - 35..raw.len() - 32],
        [0x00, 0x06, 0x20],
        "32-byte signature last"
    );

    let body =
        serde_json::to_vec(&serde_json::json!({"token": setup.token().sign().unwrap().as_str()}))
            .unwrap();
    let reply = setup
        .target
        .raw_post("/_/oidc/mint-token", &[], &body)
        .await;
    assert!(
        reply.body.contains("\"token\":\"pypi-AgEIcHlwaS5vcmc"),
        "{}",
        reply.body
    );
}

#[tokio::test]
async fn r_tok_4_r_up_2_upload_with_minted_token() {
    let setup = Setup::standard(Provider::Github).await;
    let token = setup.mint(setup.token()).await.assert_minted();
    let reply = upload(&setup.target, &token, "Widgetry", "widgetry-1.0.tar.gz").await;
    assert_eq!(reply.status_line, "HTTP/1.1 200 OK", "{reply:?}");
    // A name that normalises to the project also works.
    let reply = upload(
        &setup.target,
        &token,
        "WIDGETRY",
        "widgetry-1.0-py3-none-any.whl",
    )
    .await;
    assert_eq!(reply.status_line, "HTTP/1.1 200 OK", "{reply:?}");
}

#[tokio::test]
async fn r_up_1_no_project_is_400_with_the_message_in_the_reason_phrase() {
    let setup = Setup::standard(Provider::Github).await;
    let token = setup.mint(setup.token()).await.assert_minted();
    let reply = upload(&setup.target, &token, "gadgetry", "gadgetry-1.0.tar.gz").await;
    assert_eq!(
        reply.status_line,
        format!("HTTP/1.1 400 {NON_USER_CANNOT_CREATE}")
    );
    assert!(reply.body.contains(NON_USER_CANNOT_CREATE));
}

#[tokio::test]
async fn r_up_3_foreign_project_is_403() {
    let setup =
        Setup::standard_with(Provider::Github, |f| f.projects.push(project("gadgetry"))).await;
    let token = setup.mint(setup.token()).await.assert_minted();
    let reply = upload(&setup.target, &token, "gadgetry", "gadgetry-1.0.tar.gz").await;
    assert!(
        status(&reply).starts_with("403 Invalid API Token: "),
        "{reply:?}"
    );
    assert!(
        status(&reply).contains("OIDC scoped token is not valid for project 'gadgetry'"),
        "{reply:?}"
    );
}

#[tokio::test]
async fn r_up_4_r_tok_2_expired_token_is_403() {
    let clock = ManualClock::at(1_767_225_600.0);
    let setup = Setup::bare_with_clock(Provider::Github, Some(Arc::new(clock.clone())), |f| {
        f.projects.push(project("widgetry"));
        f.publishers
            .push(publisher(identity(Provider::Github), &["widgetry"]));
    })
    .await;
    let token = setup
        .mint(setup.token().at(1_767_225_600.0))
        .await
        .assert_minted();
    clock.advance(Duration::from_secs(899));
    let reply = upload(&setup.target, &token, "widgetry", "widgetry-1.0.tar.gz").await;
    assert_eq!(reply.status_line, "HTTP/1.1 200 OK", "{reply:?}");
    clock.advance(Duration::from_secs(1));
    let reply = upload(&setup.target, &token, "widgetry", "widgetry-1.1.tar.gz").await;
    assert!(
        status(&reply).starts_with("403 Invalid API Token: "),
        "{reply:?}"
    );
    assert!(status(&reply).contains("token is expired"), "{reply:?}");
}

#[tokio::test]
async fn upload_refuses_bad_credentials_and_duplicate_files() {
    let setup = Setup::standard(Provider::Github).await;
    let token = setup.mint(setup.token()).await.assert_minted();
    for bad in ["pypi-AgEnotamacaroon", "secret", ""] {
        let reply = upload(&setup.target, bad, "widgetry", "widgetry-1.0.tar.gz").await;
        assert!(
            status(&reply).starts_with("403 Invalid or non-existent authentication"),
            "{reply:?}"
        );
    }
    // A tampered token (one caveat byte changed) fails the signature.
    let mut raw = URL_SAFE_NO_PAD
        .decode(token.strip_prefix("pypi-").unwrap())
        .unwrap();
    let at = raw.windows(3).position(|w| w == b"[0,").unwrap() + 3;
    raw[at] = if raw[at] == b'9' { b'8' } else { b'9' };
    let tampered = format!("pypi-{}", URL_SAFE_NO_PAD.encode(&raw));
    let reply = upload(&setup.target, &tampered, "widgetry", "widgetry-1.0.tar.gz").await;
    assert!(
        status(&reply).starts_with("403 Invalid API Token: signatures do not match"),
        "{reply:?}"
    );

    let fields = [
        (":action", "file_upload"),
        ("name", "widgetry"),
        ("version", "1.0"),
    ];
    let reply = upload_with(
        &setup.target,
        &token,
        &fields,
        "widgetry-1.0.tar.gz",
        b"one",
    )
    .await;
    assert_eq!(reply.status_line, "HTTP/1.1 200 OK", "{reply:?}");
    // The identical file again is accepted, as PyPI does; other content under that name is not.
    let reply = upload_with(
        &setup.target,
        &token,
        &fields,
        "widgetry-1.0.tar.gz",
        b"one",
    )
    .await;
    assert_eq!(reply.status_line, "HTTP/1.1 200 OK", "{reply:?}");
    let reply = upload_with(
        &setup.target,
        &token,
        &fields,
        "widgetry-1.0.tar.gz",
        b"two",
    )
    .await;
    assert!(
        status(&reply).starts_with("400 File already exists ('widgetry-1.0.tar.gz'"),
        "{reply:?}"
    );
    let reply = upload_with(
        &setup.target,
        &token,
        &[
            (":action", "remove_pkg"),
            ("name", "widgetry"),
            ("version", "1"),
        ],
        "w.tar.gz",
        b"x",
    )
    .await;
    assert!(
        status(&reply).starts_with("400 Unknown :action"),
        "{reply:?}"
    );
    let wrong_digest = [
        (":action", "file_upload"),
        ("name", "widgetry"),
        ("version", "2.0"),
        ("sha256_digest", "00"),
    ];
    let reply = upload_with(
        &setup.target,
        &token,
        &wrong_digest,
        "widgetry-2.0.tar.gz",
        b"x",
    )
    .await;
    assert!(
        status(&reply).starts_with("400 The digest supplied does not match"),
        "{reply:?}"
    );
}

#[tokio::test]
async fn upload_endpoint_allows_only_post() {
    let target = Target::with_fixture(&reference_registry::FixtureDocument::new()).await;
    let reply = target.send("GET", "/legacy/", vec![]).await;
    assert_eq!(reply.status, 405);
    assert_eq!(reply.header("allow"), Some("POST"));
}
