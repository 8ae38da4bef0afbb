//! `POST /legacy/` (spec §15): reads the multipart form and the Basic credentials; the
//! decisions are in `crate::upload`.

use axum::extract::multipart::MultipartError;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderMap, Method, StatusCode, header};
use hyper::ext::ReasonPhrase;

use crate::events::{Event, UploadEvent};
use crate::pep807::Accepted;
use crate::state::Registry;
use crate::upload::{UploadError, UploadForm, upload};

pub async fn handle(State(registry): State<Registry>, request: Request) -> Response {
    if request.method() != Method::POST {
        return super::method_not_allowed(Accepted::Json, "POST");
    }
    let password = token_password(request.headers());
    let form = match read_form(request).await {
        Ok(form) => form,
        Err((response, message)) => {
            registry.emit(|| upload_event(None, response.status(), Some(message)));
            return response;
        }
    };
    let summary = (
        form.fields.get("name").cloned().unwrap_or_default(),
        form.fields.get("version").cloned().unwrap_or_default(),
        form.file.as_ref().map(|(filename, _)| filename.clone()),
    );
    let now = registry.now();
    let outcome = upload(&mut registry.lock(), password.as_deref(), form, now);
    let (response, message) = match outcome {
        Ok(()) => (StatusCode::OK.into_response(), None),
        Err(error) => {
            let message = error.message.clone();
            (refusal(error), Some(message))
        }
    };
    registry.emit(|| upload_event(Some(summary), response.status(), message));
    response
}

fn upload_event(
    summary: Option<(String, String, Option<String>)>,
    status: StatusCode,
    message: Option<String>,
) -> Event {
    let (name, version, filename) = summary.unwrap_or_default();
    Event::Upload(UploadEvent {
        name,
        version,
        filename,
        status: status.as_u16(),
        message,
    })
}

/// The password of `Authorization: Basic` credentials whose user is `__token__`.
fn token_password(headers: &HeaderMap) -> Option<String> {
    let encoded = headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Basic ")?;
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (user, password) = decoded.split_once(':')?;
    (user == "__token__").then(|| password.to_owned())
}

/// The form, or the response refusing it with its message.
async fn read_form(request: Request) -> Result<UploadForm, (Response, String)> {
    let bad_form = |e: &dyn std::fmt::Display| {
        let message = format!("Invalid upload form: {e}");
        let response = refusal(UploadError {
            status: StatusCode::BAD_REQUEST,
            message: message.clone(),
        });
        (response, message)
    };
    let refused = |e: MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            let message = e.body_text();
            (e.into_response(), message)
        } else {
            bad_form(&e)
        }
    };
    let mut multipart = Multipart::from_request(request, &())
        .await
        .map_err(|e| bad_form(&e))?;
    let mut form = UploadForm::default();
    while let Some(field) = multipart.next_field().await.map_err(refused)? {
        let name = field.name().unwrap_or_default().to_owned();
        let filename = field.file_name().map(str::to_owned);
        let data = field.bytes().await.map_err(refused)?;
        match filename {
            Some(filename) if name == "content" => form.file = Some((filename, data.to_vec())),
            _ => {
                form.fields
                    .insert(name, String::from_utf8_lossy(&data).into_owned());
            }
        }
    }
    Ok(form)
}

/// PyPI puts the message in the reason phrase (R-UP-1, R-UP-3, R-UP-4) and the body.
fn refusal(error: UploadError) -> Response {
    let mut response = (
        error.status,
        format!("{} {}\n", error.status.as_u16(), error.message),
    )
        .into_response();
    if let Ok(phrase) = ReasonPhrase::try_from(error.message.into_bytes()) {
        response.extensions_mut().insert(phrase);
    }
    response
}
