//! Observers see every mint and upload with its verdict, and never a token.

use reference_registry::Event;
use reference_registry::fixture::Provider;

use crate::support::Setup;
use crate::upload::upload;

#[tokio::test]
async fn mints_and_uploads_are_reported_with_claims_and_verdict() {
    let setup = Setup::standard(Provider::Github).await;
    let mut events = setup.target.registry.subscribe();

    let token = setup.token().sign().unwrap();
    let api_token = setup.target.mint(token.as_str()).await.assert_minted();
    let refused = setup.token().claim("repository", "acme-labs/renamed");
    setup.mint(refused).await;
    upload(&setup.target, &api_token, "newproj", "newproj-1.0.tar.gz").await;

    let Event::Mint(minted) = events.recv().await.unwrap() else {
        panic!("not a mint event")
    };
    assert_eq!(minted.status, 200);
    assert_eq!(minted.code, None);
    assert!(minted.expires.is_some());
    let claims = minted.claims.as_ref().unwrap();
    assert_eq!(claims["repository"], "acme-labs/widgetry");

    let Event::Mint(refusal) = events.recv().await.unwrap() else {
        panic!("not a mint event")
    };
    assert_eq!(refusal.status, 422);
    assert_eq!(refusal.code, Some("invalid-publisher"));
    assert_eq!(
        refusal.description.as_deref(),
        Some(
            "valid token, but no corresponding publisher (Publisher with matching claims was not found)"
        )
    );
    assert_eq!(refusal.claims.unwrap()["repository"], "acme-labs/renamed");

    let Event::Upload(upload) = events.recv().await.unwrap() else {
        panic!("not an upload event")
    };
    assert_eq!((upload.name.as_str(), upload.status), ("newproj", 400));
    assert!(
        upload
            .message
            .unwrap()
            .starts_with("Non-user identities cannot create new projects.")
    );

    let log = serde_json::to_string(&minted).unwrap();
    assert!(!log.contains(&api_token) && !log.contains(token.as_str()));
}

#[tokio::test]
async fn step_five_reasons_reach_observers_but_not_clients() {
    let setup = Setup::standard(Provider::Github).await;
    let mut events = setup.target.registry.subscribe();
    let reply = setup
        .mint(setup.token().defect(mock_issuer::Defect::Expired))
        .await;
    reply.assert_error("invalid-token", "malformed or invalid token");
    assert!(!reply.body.contains("R-TIME-2"));
    let Event::Mint(event) = events.recv().await.unwrap() else {
        panic!("not a mint event")
    };
    assert!(event.undisclosed.unwrap().contains("expired"));
}
