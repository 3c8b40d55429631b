//! Sends a conversation's outputs as mail through the tenant's SMTP server with lettre. The
//! server's address goes through the outbound guard at send time (resolved here, then lettre
//! connects to the address that passed, with the name kept for TLS). A 5xx from the server is
//! a refusal for good (the reminder falls back to its next channel); anything else is retried.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::future::BoxFuture;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use percent_encoding::percent_decode_str;
use turnero_core::chat::Output;
use turnero_core::ids::next_ulid;

use super::store::{self, EmailChannel};
use crate::chat::conversations::Conversation;
use crate::chat::outbox::{Delivery, Sender};
use crate::db::Db;
use crate::error::Result;
use crate::outbound::Outbound;

pub struct EmailSender {
    pub db: Db,
    pub outbound: Outbound,
}

impl Sender for EmailSender {
    fn send<'a>(
        &'a self,
        to: &'a Conversation,
        output: &'a Output,
    ) -> BoxFuture<'a, Result<Delivery>> {
        Box::pin(async move {
            let Some(ch) = store::get(&self.db, &to.tenant).await? else {
                return Ok(Delivery::Refused(
                    "the email channel is not configured".into(),
                ));
            };
            let message = match build(&ch, &to.contact, output) {
                Ok(m) => m,
                Err(why) => return Ok(Delivery::Refused(why)),
            };
            Ok(self.post(&ch, message.0, message.1).await)
        })
    }
}

/// The message and its Message-ID.
fn build(ch: &EmailChannel, to: &str, output: &Output) -> Result<(Message, String), String> {
    let from: Mailbox = ch.from.parse().map_err(|e| format!("invalid from: {e}"))?;
    let to: Mailbox = to.parse().map_err(|_| "invalid_email".to_string())?;
    let id = format!("<{}@turnero>", next_ulid());
    let builder = Message::builder()
        .from(from)
        .to(to)
        .message_id(Some(id.clone()));
    let built = match output {
        Output::Mail(m) => {
            let builder = builder.subject(m.subject.clone());
            match &m.ics {
                Some(ics) => {
                    let calendar = ContentType::parse("text/calendar; charset=utf-8")
                        .map_err(|e| e.to_string())?;
                    builder.multipart(
                        MultiPart::mixed()
                            .singlepart(SinglePart::plain(m.text.clone()))
                            .singlepart(
                                Attachment::new("invite.ics".into()).body(ics.clone(), calendar),
                            ),
                    )
                }
                None => builder.body(m.text.clone()),
            }
        }
        other => builder.subject("·").body(other.as_text()),
    };
    built.map(|m| (m, id)).map_err(|e| e.to_string())
}

impl EmailSender {
    async fn post(&self, ch: &EmailChannel, message: Message, id: String) -> Delivery {
        let url = match url::Url::parse(&ch.smtp_url) {
            Ok(u) => u,
            Err(e) => return Delivery::Refused(format!("invalid smtp_url: {e}")),
        };
        let implicit_tls = url.scheme() == "smtps";
        let host = url.host_str().unwrap_or_default().to_string();
        let port = url.port().unwrap_or(if implicit_tls { 465 } else { 587 });
        let addr = match self.resolve(&host, port).await {
            Ok(a) => a,
            Err(why) => return Delivery::Refused(why),
        };
        // `?tls=none` only for a relay the clinic runs beside turnero: the password and the
        // patients' data would otherwise cross the network in clear.
        let plain = url.query_pairs().any(|(k, v)| k == "tls" && v == "none");
        let tls = match TlsParameters::new(host.clone()) {
            _ if plain => Tls::None,
            Ok(p) if implicit_tls => Tls::Wrapper(p),
            Ok(p) => Tls::Required(p),
            Err(e) => return Delivery::Refused(format!("TLS: {e}")),
        };
        let mut builder =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(addr.ip().to_string())
                .port(addr.port())
                .tls(tls)
                .timeout(Some(Duration::from_secs(15)));
        if !url.username().is_empty() {
            let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
            builder = builder.credentials(Credentials::new(
                decode(url.username()),
                decode(url.password().unwrap_or_default()),
            ));
        }
        let transport = builder.build();
        match transport.send(message).await {
            Ok(_) => Delivery::Sent(vec![id]),
            // Never the URL in the error: it holds the password.
            Err(e) if e.is_permanent() => {
                Delivery::Refused(format!("the mail server refused it: {e}"))
            }
            Err(e) => Delivery::later(format!("the mail server: {e}")),
        }
    }

    /// The first of the host's addresses the outbound guard allows.
    async fn resolve(&self, host: &str, port: u16) -> Result<SocketAddr, String> {
        let addrs = tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| format!("cannot resolve the mail server: {e}"))?;
        let mut refused = None;
        for a in addrs {
            match self.outbound.guard.check_ip(a.ip()) {
                Ok(()) => return Ok(a),
                Err(e) => refused = Some(e),
            }
        }
        Err(match refused {
            Some(e) => format!("the mail server's address is refused: {e}"),
            None => "the mail server has no address".into(),
        })
    }
}
