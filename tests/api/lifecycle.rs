//! The process: `oxcart serve` answers, and on SIGTERM finishes the
//! request in flight before exiting cleanly.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn sigterm_lets_the_in_flight_request_finish() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_oxcart"))
        .args(["--data-dir", dir.path().to_str().unwrap(), "serve", "--demo", "--listen", "127.0.0.1:0"])
        .env_remove("OXCART_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut addr = String::new();
    for line in stdout.by_ref() {
        let line = line.unwrap();
        if let Some(url) = line.trim().strip_prefix("Storefront: http://") {
            addr = url.trim_end_matches('/').to_string();
            break;
        }
    }
    // Keep draining stdout so the server never writes into a closed pipe.
    std::thread::spawn(move || stdout.for_each(drop));
    assert!(!addr.is_empty(), "serve printed its address");

    // The demo catalog is on the home page.
    let mut home = TcpStream::connect(&addr).unwrap();
    write!(home, "GET / HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut page = String::new();
    home.read_to_string(&mut page).unwrap();
    assert!(page.contains("Trail Runner") && page.contains("Storm Shell Jacket"), "demo products are featured");

    // Start a request and send only half of its body.
    let body = r#"{"email":"late@example.com","password":"a long password","display_name":"Late"}"#;
    let mut stream = TcpStream::connect(&addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        stream,
        "POST /api/v1/customers HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        body.len(),
        &body[..20]
    )
    .unwrap();
    stream.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));

    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    std::thread::sleep(Duration::from_millis(300));

    stream.write_all(&body.as_bytes()[20..]).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 201"), "the in-flight request completed: {response}");

    let exit = child.wait().unwrap();
    assert!(exit.success(), "clean exit after SIGTERM");
    let mut logs = String::new();
    child.stderr.take().unwrap().read_to_string(&mut logs).unwrap();
    assert!(logs.contains("webhook worker stopped"), "the worker stopped cleanly");
    assert!(logs.contains("\"request_id\""), "log lines carry the request id: {logs}");
}
