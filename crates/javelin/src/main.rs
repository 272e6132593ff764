fn main() -> std::process::ExitCode {
    javelin::main()
}
