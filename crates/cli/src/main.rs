fn main() -> std::process::ExitCode {
    wirebench::main()
}
