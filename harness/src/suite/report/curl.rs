//! Reproducing a request from a shell.

use std::fmt::Write as _;

use crate::rig::transport::Outgoing;

/// A `curl` command line (POSIX shell) that sends `request` as the harness sent it: the
/// method, every header, and the body byte for byte (`--data-raw` for printable text,
/// else `printf '%b' ... | curl --data-binary @-`).
pub fn curl_command(request: &Outgoing) -> String {
    let mut words: Vec<String> = vec!["curl".into(), "-sS".into(), "-i".into()];
    let has_body = request.body.is_some();
    match (request.method.as_str(), has_body) {
        ("GET", false) | ("POST", true) => {}
        ("HEAD", false) => words.push("--head".into()),
        (method, _) => {
            words.push("-X".into());
            words.push(shell_quote(method));
        }
    }
    for (name, value) in &request.headers {
        words.push("-H".into());
        words.push(shell_quote(&format!("{name}: {value}")));
    }
    let typed = request
        .headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("content-type"));
    let mut pipe = String::new();
    if let Some(body) = &request.body {
        if !typed {
            // curl would add `application/x-www-form-urlencoded`; the harness sent none.
            words.push("-H".into());
            words.push(shell_quote("Content-Type:"));
        }
        match std::str::from_utf8(body) {
            Ok(text)
                if text
                    .chars()
                    .all(|c| !c.is_control() || c == '\n' || c == '\t') =>
            {
                words.push("--data-raw".into());
                words.push(shell_quote(text));
            }
            _ => {
                pipe = format!("printf '%b' {} | ", shell_quote(&printf_escape(body)));
                words.push("--data-binary".into());
                words.push("@-".into());
            }
        }
    }
    words.push(shell_quote(&request.url));
    format!("{pipe}{}", words.join(" "))
}

/// Quotes a word for a POSIX shell (single quotes unless it is plainly safe).
pub fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Bytes as a `printf '%b'` argument: printable ASCII as is, the rest as `\0NNN`.
fn printf_escape(bytes: &[u8]) -> String {
    let mut text = String::new();
    for &byte in bytes {
        match byte {
            b'\\' => text.push_str(r"\\"),
            b'\n' => text.push_str(r"\n"),
            b'\r' => text.push_str(r"\r"),
            0x20..=0x7e => text.push(byte as char),
            _ => {
                let _ = write!(text, "\\0{byte:03o}");
            }
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Outgoing {
        Outgoing {
            method: method.into(),
            url: "http://127.0.0.1:8000/_/oidc/mint-token".into(),
            headers: headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            body: body.map(<[u8]>::to_vec),
        }
    }

    #[test]
    fn curl_sends_the_json_body_raw_and_quoted() {
        let sent = request(
            "POST",
            &[("content-type", "application/json")],
            Some(br#"{"token":"it's"}"#),
        );
        assert_eq!(
            curl_command(&sent),
            r#"curl -sS -i -H 'content-type: application/json' --data-raw '{"token":"it'\''s"}' http://127.0.0.1:8000/_/oidc/mint-token"#
        );
    }

    #[test]
    fn curl_pipes_bodies_with_control_bytes_through_printf() {
        let sent = request(
            "POST",
            &[("content-type", "multipart/form-data; boundary=b")],
            Some(b"--b\r\nx\\y\x01%\n"),
        );
        assert_eq!(
            curl_command(&sent),
            r#"printf '%b' '--b\r\nx\\y\0001%\n' | curl -sS -i -H 'content-type: multipart/form-data; boundary=b' --data-binary @- http://127.0.0.1:8000/_/oidc/mint-token"#
        );
    }

    #[test]
    fn curl_names_unusual_methods_and_suppresses_its_default_content_type() {
        assert_eq!(
            curl_command(&request("GET", &[], None)),
            "curl -sS -i http://127.0.0.1:8000/_/oidc/mint-token"
        );
        assert_eq!(
            curl_command(&request("DELETE", &[], Some(b""))),
            "curl -sS -i -X DELETE -H Content-Type: --data-raw '' http://127.0.0.1:8000/_/oidc/mint-token"
        );
        assert_eq!(
            curl_command(&request("HEAD", &[], None)),
            "curl -sS -i --head http://127.0.0.1:8000/_/oidc/mint-token"
        );
    }

    #[test]
    fn quoted_words_and_escaped_bodies_survive_a_real_shell() {
        let run = |script: &str| {
            let output = std::process::Command::new("sh")
                .arg("-c")
                .arg(script)
                .output()
                .unwrap();
            output.stdout
        };
        let text = "{\"token\": \"a'b\"}\n$HOME `x` \\";
        assert_eq!(
            run(&format!("printf '%s' {}", shell_quote(text))),
            text.as_bytes()
        );
        let bytes = b"\r\n\x00\xff%s\\n done";
        let sent = request("POST", &[], Some(bytes));
        let command = curl_command(&sent);
        let (pipe, _) = command.split_once(" | curl").unwrap();
        assert_eq!(run(pipe), bytes, "{pipe}");
    }
}
