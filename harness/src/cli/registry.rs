//! `mintcheck registry`: the reference registry as a server (filled in by the reference-registry work).

#[derive(Debug, clap::Args)]
pub struct RegistryArgs {}

pub async fn run(_args: RegistryArgs) -> anyhow::Result<()> {
    anyhow::bail!("`mintcheck registry` is not built yet")
}
