//! The mock issuers a scenario runs against: one per provider, each impersonating that
//! provider's canonical issuer string, and the fixture document that tells a target to
//! trust them.

use std::sync::Arc;

use mock_issuer::tls::{TestCa, issuer_host};
use mock_issuer::{
    Endpoint, IssuerError, IssuerMode, KeySet, MockIssuer, MockIssuerBuilder, Profile, Provider,
    TokenBuilder,
};
use reference_registry::fixture::{self as fx, FixtureDocument};

use super::gateway::{MockGateway, Mount};
use super::in_process::MockNetwork;
use super::proxy::IssuerProxy;
use crate::scenario::model::{FaultChange, Fixture, Flag, IssuerChange};

/// How a run's mock issuers start: over plain http or https (with certificates from `ca`,
/// else from a CA generated per start), and routed through the run's issuer proxy, if any.
#[derive(Clone, Debug, Default)]
pub struct IssuerSetup {
    pub tls: bool,
    /// The one CA all mock issuers of the run use with `tls`, so a target started once per
    /// run can be told to trust it.
    pub ca: Option<Arc<TestCa>>,
    /// The issuer proxy (`--issuer-proxy`), routed to each start's mocks: the target is
    /// about to apply a fixture trusting them.
    pub proxy: Option<Arc<IssuerProxy>>,
    /// The run's one listener for plain-http mocks, which then bind nothing themselves.
    pub gateway: Option<Arc<MockGateway>>,
}

/// How a scenario's mock issuer is built. Every response of a bound mock closes its
/// connection (on the gateway and in process there is none to close): a mock lives for one
/// scenario, and behind the issuer proxy every scenario's mock answers at the same `host:443`, so a registry's pooled connection would carry the next scenario's key
/// fetch down a tunnel to the previous scenario's mock (still serving its keys, or closing
/// under the request), and a sound registry would be judged on the wrong mock's answer.
pub(crate) fn scenario_issuer(
    mode: IssuerMode,
    keys: KeySet,
    ca: Option<&Arc<TestCa>>,
) -> MockIssuerBuilder {
    let builder = MockIssuer::builder()
        .issuer_mode(mode)
        .keys(keys)
        .close_connections(true);
    match ca {
        Some(ca) => builder.ca(ca.clone()),
        None => builder,
    }
}

impl IssuerSetup {
    /// Whether the mocks can serve in process ([`Issuers::in_process`]): for plain http and
    /// no issuer proxy, whose routes need addresses.
    pub fn can_serve_in_process(&self) -> bool {
        !self.tls && self.proxy.is_none()
    }

    /// The mocks `fixture` asks for, started (in process if asked and they can, else on the
    /// gateway if there is one), with the proxy routed to them.
    pub async fn start(&self, fixture: &Fixture, in_process: bool) -> Result<Issuers, IssuerError> {
        if self.can_serve_in_process() {
            if in_process {
                return Issuers::in_process(fixture).await;
            }
            if let Some(gateway) = &self.gateway {
                return Issuers::launch(Serving::Gateway(gateway), fixture).await;
            }
        }
        let issuers = Issuers::start(self.tls, self.ca.as_ref(), fixture).await?;
        if let Some(proxy) = &self.proxy {
            proxy.route(issuers.routes());
        }
        Ok(issuers)
    }
}

/// Where a scenario's mocks serve.
enum Serving<'a> {
    /// Loopback ports, over https with certificates from the CA, if any.
    Sockets(Option<Arc<TestCa>>),
    /// No socket ([`MockIssuerBuilder::in_process`]).
    InProcess,
    /// Under paths of their own on the run's one listener.
    Gateway(&'a MockGateway),
}

pub struct Issuers {
    by_provider: Vec<(Provider, MockIssuer)>,
    /// Custom issuers (`canonical: false` in the fixture), one mock each.
    custom: Vec<(Provider, MockIssuer)>,
    /// The audience forged tokens carry: the fixture's, else `pypi`.
    audience: String,
    /// Reached only through [`Self::network`].
    in_process: bool,
    /// Their places on the gateway, given up with them.
    _mounts: Vec<Mount>,
}

impl Issuers {
    /// The mocks a scenario's fixture asks for: one per provider (carrying its canonical
    /// issuer string, or its own URL where `substitute_issuers` names the provider) and one
    /// per custom issuer, issuing tokens for the fixture's audience. With `tls`, all serve
    /// https with certificates from `ca` (or from one CA generated here), so the fixture
    /// document's `ca_pem` covers them all.
    pub async fn start(
        tls: bool,
        ca: Option<&Arc<TestCa>>,
        fixture: &Fixture,
    ) -> Result<Issuers, IssuerError> {
        let ca = match (tls, ca) {
            (false, _) => None,
            (true, Some(ca)) => Some(ca.clone()),
            (true, None) => Some(Arc::new(TestCa::generate_for(&custom_hosts([fixture]))?)),
        };
        Self::launch(Serving::Sockets(ca), fixture).await
    }

    /// The mocks of [`Self::start`] over plain http without sockets, each at
    /// `http://<name>.mock.invalid`: for a target that reaches them through
    /// [`Self::network`] (the embedded reference registry).
    pub async fn in_process(fixture: &Fixture) -> Result<Issuers, IssuerError> {
        Self::launch(Serving::InProcess, fixture).await
    }

    async fn launch(serving: Serving<'_>, fixture: &Fixture) -> Result<Issuers, IssuerError> {
        let start = |mode: IssuerMode, provider: Provider, name: String| {
            // A custom issuer's tokens are forged by its provider's mock with `iss` set to
            // the custom URL, so it publishes the same keys.
            let keys = KeySet::embedded_for(provider);
            match &serving {
                Serving::Sockets(ca) => scenario_issuer(mode, keys, ca.as_ref()),
                Serving::InProcess => scenario_issuer(mode, keys, None)
                    .in_process(format!("http://{name}.mock.invalid")),
                Serving::Gateway(gateway) => {
                    scenario_issuer(mode, keys, None).in_process(gateway.reserve(&name))
                }
            }
            .start()
        };
        let mut by_provider = Vec::new();
        for provider in Provider::ALL {
            let mode = if fixture.substitute_issuers.contains(&provider) {
                IssuerMode::Own
            } else {
                IssuerMode::Canonical(provider)
            };
            let name = provider.name().to_owned();
            by_provider.push((provider, start(mode, provider, name).await?));
        }
        let mut customs = Vec::new();
        for (i, custom) in fixture.custom_issuers.iter().enumerate() {
            let mode = IssuerMode::Custom(custom.issuer.clone());
            let name = format!("custom-{i}");
            customs.push((custom.provider, start(mode, custom.provider, name).await?));
        }
        let mounts = match serving {
            Serving::Gateway(gateway) => by_provider
                .iter()
                .chain(&customs)
                .map(|(_, mock)| gateway.mount(mock.base_url(), mock.service()))
                .collect(),
            _ => Vec::new(),
        };
        Ok(Issuers {
            by_provider,
            custom: customs,
            audience: fixture.audience().to_owned(),
            in_process: matches!(serving, Serving::InProcess),
            _mounts: mounts,
        })
    }

    pub fn for_provider(&self, provider: Provider) -> &MockIssuer {
        let (_, issuer) = self
            .by_provider
            .iter()
            .find(|(p, _)| *p == provider)
            .expect("one mock per provider");
        issuer
    }

    /// Applies an `issuer` step: key lifecycle or a JWKS fault at one provider's mock.
    pub fn change(&self, change: &IssuerChange) -> Result<(), String> {
        let issuer = self.for_provider(change.provider);
        let failed = |e: IssuerError| e.to_string();
        if change.rotate {
            issuer.rotate().map_err(failed)?;
        }
        if let Some(kid) = &change.publish {
            issuer.publish_key(kid).map_err(failed)?;
        }
        if let Some(kid) = &change.sign_with {
            issuer.sign_with(kid).map_err(failed)?;
        }
        if let Some(kid) = &change.retire {
            issuer.retire_key(kid).map_err(failed)?;
        }
        if let Some(jwk) = &change.jwk {
            let edit = mock_issuer::JwkEdit {
                set: jwk.set.clone(),
                remove: jwk.remove.clone(),
            };
            issuer.edit_jwk(&jwk.kid, edit).map_err(failed)?;
        }
        if let Some(entry) = &change.add_jwk {
            issuer.add_jwks_entry(entry.clone());
        }
        match change.fault {
            Some(FaultChange::Set(fault)) => issuer.set_jwks_fault(Some(fault)),
            Some(FaultChange::Clear) => issuer.set_jwks_fault(None),
            None => {}
        }
        Ok(())
    }

    /// A token of `profile` from its provider's mock, for the fixture's audience.
    pub fn token(&self, profile: Profile) -> TokenBuilder {
        self.token_for(profile, &self.audience)
    }

    /// A token of `profile` from its provider's mock, for `audience`.
    pub fn token_for(&self, profile: Profile, audience: &str) -> TokenBuilder {
        let issuer = self.for_provider(profile.provider());
        issuer
            .forger()
            .with_audience(audience.to_owned())
            .token(profile)
    }

    /// The mocks as a network that reaches them without sockets, if they were started
    /// [`Self::in_process`] (else they are reached over HTTP).
    pub fn network(&self) -> Option<Arc<MockNetwork>> {
        if !self.in_process {
            return None;
        }
        let mocks = self.by_provider.iter().chain(&self.custom);
        let network = mocks.fold(MockNetwork::default(), |network, (_, mock)| {
            network.with(mock.base_url(), mock.service())
        });
        Some(Arc::new(network))
    }

    /// Each issuer host to the mock serving it, for the issuer proxy: a registry that reaches
    /// `https://<iss>/.well-known/openid-configuration` through it reaches the right mock.
    pub fn routes(&self) -> Vec<(String, std::net::SocketAddr)> {
        self.by_provider
            .iter()
            .chain(&self.custom)
            .filter_map(|(_, issuer)| {
                let addr = issuer_host(issuer.base_url()).parse().ok()?;
                let port = issuer.base_url().rsplit(':').next()?.parse().ok()?;
                Some((
                    issuer_host(issuer.issuer()).to_owned(),
                    std::net::SocketAddr::new(addr, port),
                ))
            })
            .collect()
    }

    /// What the target fetched from each mock, for a report that must say whether it ever
    /// reached the issuers: `github: discovery 1, jwks 1; gitlab: …`.
    pub fn fetches(&self) -> String {
        self.by_provider
            .iter()
            .chain(&self.custom)
            .map(|(_, issuer)| {
                format!(
                    "{}: discovery {}, jwks {}",
                    issuer.issuer(),
                    issuer.hits(Endpoint::Discovery),
                    issuer.hits(Endpoint::Jwks)
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Requests to `endpoint` (a [`crate::scenario::model::ISSUER_ENDPOINTS`] name) over all
    /// mock issuers, canonical and custom.
    pub fn hits(&self, endpoint: &str) -> usize {
        let endpoint = match endpoint {
            "discovery" => Endpoint::Discovery,
            "jwks" => Endpoint::Jwks,
            "attacker-jku" => Endpoint::AttackerJku,
            "attacker-x5u" => Endpoint::AttackerX5u,
            _ => return 0,
        };
        // Custom issuers count too: a target fetching their keys is fetching keys.
        self.by_provider
            .iter()
            .chain(&self.custom)
            .map(|(_, issuer)| issuer.hits(endpoint))
            .sum()
    }

    /// The fixture document for a scenario's fixture, trusting these issuers.
    pub fn document(&self, spec: &Fixture) -> FixtureDocument {
        with_fixture(self.trusting(), spec)
    }

    /// A document that trusts these issuers (with their CA) and holds nothing else.
    pub fn trusting(&self) -> FixtureDocument {
        let mut document = FixtureDocument::new();
        let canonical = self.by_provider.iter().map(|entry| (entry, true));
        let custom = self.custom.iter().map(|entry| (entry, false));
        document.issuers = canonical
            .chain(custom)
            .map(|((provider, issuer), canonical)| fx::Issuer {
                provider: *provider,
                issuer: issuer.issuer().to_owned(),
                canonical,
                discovery_url: Some(issuer.discovery_url()),
                jwks_url: Some(issuer.jwks_url()),
                jwks: Some(issuer.jwks()),
            })
            .collect();
        document.ca_pem = self
            .by_provider
            .iter()
            .find_map(|(_, i)| i.ca_pem().map(str::to_owned));
        document
    }
}

/// The hosts of the custom issuers `fixtures` name: what the run's server certificate must
/// name besides the canonical hosts.
pub fn custom_hosts<'a>(fixtures: impl IntoIterator<Item = &'a Fixture>) -> Vec<String> {
    let mut hosts: Vec<String> = fixtures
        .into_iter()
        .flat_map(|fixture| &fixture.custom_issuers)
        .map(|custom| issuer_host(&custom.issuer).to_owned())
        .collect();
    hosts.sort();
    hosts.dedup();
    hosts
}

/// `trusting` (from [`Issuers::trusting`]) with a scenario fixture's state added.
pub fn with_fixture(trusting: FixtureDocument, spec: &Fixture) -> FixtureDocument {
    let mut document = trusting;
    // Always named: forged tokens carry it, so a target configured for another audience
    // must not refuse every token for that reason alone.
    document.audience = Some(spec.audience().to_owned());
    for flag in &spec.flags {
        let flags = &mut document.flags;
        *match flag {
            Flag::DisallowOidc => &mut flags.disallow_oidc,
            Flag::DisallowGithubOidc => &mut flags.disallow_github_oidc,
            Flag::DisallowGitlabOidc => &mut flags.disallow_gitlab_oidc,
            Flag::DisallowGoogleOidc => &mut flags.disallow_google_oidc,
            Flag::DisallowActivestateOidc => &mut flags.disallow_activestate_oidc,
            Flag::DisallowNewProjectRegistration => &mut flags.disallow_new_project_registration,
        } = true;
    }
    document.projects = spec
        .projects
        .iter()
        .map(|name| fx::Project {
            name: name.clone(),
            id: None,
        })
        .collect();
    document.prohibited_names = spec.prohibited_names.clone();
    document.publishers = spec.publishers.clone();
    document.pending_publishers = spec.pending_publishers.clone();
    document.used_jtis = spec.used_jtis.clone();
    document
}
