//! A mail server for the tests: a real SMTP conversation on 127.0.0.1 (greeting, EHLO, MAIL,
//! RCPT, DATA, QUIT), keeping each message's raw bytes for a real parser to read. It can be
//! told to refuse recipients for good (550), as a server does for an unknown mailbox.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

#[derive(Default)]
struct Inner {
    messages: Mutex<Vec<Vec<u8>>>,
    refuse: AtomicBool,
    /// Milliseconds each message takes to accept, one message at a time (a busy server).
    delay_ms: AtomicU64,
    gate: tokio::sync::Mutex<()>,
}

#[derive(Clone)]
pub struct SmtpServer {
    pub port: u16,
    inner: Arc<Inner>,
}

impl SmtpServer {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let inner = Arc::new(Inner::default());
        let shared = inner.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let inner = shared.clone();
                tokio::spawn(async move {
                    let _ = serve(socket, inner).await;
                });
            }
        });
        SmtpServer { port, inner }
    }

    /// `smtp://…` for this server, with credentials it accepts (it speaks no TLS).
    pub fn url(&self) -> String {
        format!("smtp://clinic:s3cret%21@127.0.0.1:{}?tls=none", self.port)
    }

    pub fn delay(&self, ms: u64) {
        self.inner.delay_ms.store(ms, Ordering::SeqCst);
    }

    pub fn refuse_recipients(&self, refuse: bool) {
        self.inner.refuse.store(refuse, Ordering::SeqCst);
    }

    pub fn messages(&self) -> Vec<Vec<u8>> {
        self.inner.messages.lock().unwrap().clone()
    }

    pub async fn wait_for(&self, n: usize, secs: u64) -> Vec<Vec<u8>> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let got = self.messages();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "expected {n} mails, got {}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

async fn serve(socket: tokio::net::TcpStream, inner: Arc<Inner>) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 mail.test ESMTP ready\r\n").await?;
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
        let answer: &[u8] = match verb.as_str() {
            "EHLO" => b"250-mail.test\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n",
            "HELO" => b"250 mail.test\r\n",
            "AUTH" => {
                // AUTH PLAIN with the initial response: \0user\0password, base64.
                let given = line.split_whitespace().nth(2).unwrap_or("");
                use base64::Engine;
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(given)
                    .unwrap_or_default();
                if decoded == b"\0clinic\0s3cret!" {
                    b"235 ok\r\n"
                } else {
                    b"535 bad credentials\r\n"
                }
            }
            "MAIL" => b"250 ok\r\n",
            "RCPT" if inner.refuse.load(Ordering::SeqCst) => b"550 no such mailbox\r\n",
            "RCPT" => b"250 ok\r\n",
            "DATA" => {
                // A busy server: one message at a time, slow to say "go ahead".
                let delay = inner.delay_ms.load(Ordering::SeqCst);
                let _one_at_a_time = if delay > 0 {
                    let gate = inner.gate.lock().await;
                    tokio::time::sleep(Duration::from_millis(delay)).await;
                    Some(gate)
                } else {
                    None
                };
                write.write_all(b"354 go ahead\r\n").await?;
                let mut message = Vec::new();
                loop {
                    let mut l = String::new();
                    if lines.read_line(&mut l).await? == 0 {
                        return Ok(());
                    }
                    if l == ".\r\n" {
                        break;
                    }
                    let l = l.strip_prefix('.').unwrap_or(&l);
                    message.extend_from_slice(l.as_bytes());
                }
                inner.messages.lock().unwrap().push(message);
                write.write_all(b"250 queued\r\n").await?;
                continue;
            }
            "RSET" | "NOOP" => b"250 ok\r\n",
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 not implemented\r\n",
        };
        write.write_all(answer).await?;
    }
}
