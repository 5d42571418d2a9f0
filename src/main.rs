fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(workbench::cli::main_entry())
}
