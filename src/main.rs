#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    let cli = postern::cli::help::parse();
    let daemon = matches!(&cli.command, postern::cli::Command::Run(a) if !a.once);
    postern::cli::init_logging(cli.verbose, daemon);
    postern::crypto::message::quiet_contained_panics();
    match postern::cli::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
