fn main() -> anyhow::Result<()> {
    turnero::cli::run()
}
