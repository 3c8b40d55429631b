//! The OpenAPI document says how errors really come: every 4xx/5xx as
//! `application/problem+json` (RFC 9457, the `Problem` schema), a 401 on every operation that
//! needs the API key, and 400 / 413 / 415 / 422 on every operation that takes a JSON body
//! (malformed, too large, not JSON, invalid). Done once over the generated document, so no
//! handler's annotation can forget it.

use utoipa::openapi::path::Operation;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::{ContentBuilder, OpenApi, RefOr};

const PROBLEM: &str = "application/problem+json";

fn problem(description: &str) -> RefOr<Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                PROBLEM,
                ContentBuilder::new()
                    .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                        "Problem",
                    ))))
                    .build(),
            )
            .build(),
    )
}

fn document(op: &mut Operation, secured_by_default: bool) {
    for (status, response) in op.responses.responses.iter_mut() {
        let RefOr::T(r) = response else { continue };
        if status.starts_with('4') || status.starts_with('5') {
            if let Some(content) = r.content.shift_remove("application/json") {
                r.content.insert(PROBLEM.to_string(), content);
            }
        }
    }
    let open = op.security.as_ref().is_some_and(|s| {
        s.is_empty()
            || s.iter()
                .all(|r| serde_json::to_value(r).is_ok_and(|v| v == serde_json::json!({})))
    });
    let add = |op: &mut Operation, status: &str, what: &str| {
        op.responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| problem(what));
    };
    if secured_by_default && !open {
        add(op, "401", "No valid API key (`WWW-Authenticate: Bearer`)");
    }
    if op.request_body.is_some() {
        add(op, "400", "The body is not valid JSON");
        add(op, "413", "The body is too large");
        add(op, "415", "The body is not `application/json`");
        add(op, "422", "A field is invalid (`field` names it)");
    }
}

/// Applies the rules above to every operation of the document.
pub fn document_errors(doc: &mut OpenApi) {
    let secured = doc.security.as_ref().is_some_and(|s| !s.is_empty());
    for item in doc.paths.paths.values_mut() {
        let ops = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for op in ops.into_iter().flatten() {
            document(op, secured);
        }
    }
}
