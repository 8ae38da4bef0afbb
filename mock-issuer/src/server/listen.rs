//! The accept loop. Connections live in a `JoinSet` owned by the server task, so aborting
//! that task (dropping the `MockIssuer`) closes every connection too.
//!
//! Every response closes its connection (`connection: close`). A mock lives for one
//! scenario, and behind the issuer proxy every scenario's mock answers at the same
//! `host:443`: a client that pooled a connection would send the next scenario's key fetch
//! down a tunnel to the previous scenario's mock (still serving its keys, or closing under
//! the request), and a sound registry would be judged on the wrong mock's answer.

use std::time::Duration;

use axum::Router;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

pub(crate) async fn serve(listener: TcpListener, tls: Option<TlsAcceptor>, app: Router) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(serve_connection(stream, tls.clone(), app.clone()));
                }
                // Out of file descriptors and the like: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn serve_connection(stream: TcpStream, tls: Option<TlsAcceptor>, app: Router) {
    let _ = stream.set_nodelay(true);
    let service = TowerToHyperService::new(app);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.keep_alive(false);
    // A client that hangs up or fails the handshake is its own business; nothing to report.
    let _ = match tls {
        Some(acceptor) => match acceptor.accept(stream).await {
            Ok(stream) => http.serve_connection(TokioIo::new(stream), service).await,
            Err(_) => return,
        },
        None => http.serve_connection(TokioIo::new(stream), service).await,
    };
}
