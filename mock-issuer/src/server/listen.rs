//! The accept loop. Connections live in a `JoinSet` owned by the server task, so aborting
//! that task (dropping the `MockIssuer`) closes every connection too.

use std::time::Duration;

use std::sync::Arc;

use axum::Router;
use axum::middleware::AddExtension;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

/// What a connection serves: any router, such as the mock's routes with its state added.
pub(crate) trait App:
    tower::Service<
        axum::http::Request<hyper::body::Incoming>,
        Response = axum::response::Response,
        Error = std::convert::Infallible,
        Future: Send,
    > + Clone
    + Send
    + 'static
{
}

impl App for Router {}
impl App for AddExtension<Router, Arc<super::Shared>> {}

/// Serves `app` on every connection `listener` accepts; with `close_each`, every response
/// closes its connection (`connection: close`).
pub(crate) async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    app: impl App,
    close_each: bool,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(serve_connection(stream, tls.clone(), app.clone(), close_each));
                }
                // Out of file descriptors and the like: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn serve_connection(
    stream: TcpStream,
    tls: Option<TlsAcceptor>,
    app: impl App,
    close_each: bool,
) {
    let _ = stream.set_nodelay(true);
    let service = TowerToHyperService::new(app);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.keep_alive(!close_each);
    // A client that hangs up or fails the handshake is its own business; nothing to report.
    let _ = match tls {
        Some(acceptor) => match acceptor.accept(stream).await {
            Ok(stream) => http.serve_connection(TokioIo::new(stream), service).await,
            Err(_) => return,
        },
        None => http.serve_connection(TokioIo::new(stream), service).await,
    };
}
