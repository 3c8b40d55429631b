//! The OpenAPI document says how errors really come: every 4xx/5xx as
//! `application/problem+json` (RFC 9457, the `Problem` schema), a 401 on every operation that
//! needs the API key, 400 / 413 / 415 / 422 on every operation that takes a JSON body
//! (malformed, too large, not JSON, invalid), 404 on every operation that names a record in
//! its path or body (or reads, changes or removes a singleton that may not be set up), and
//! 400 / 422 on every operation with query parameters (unknown, out of range); a `{date}` in
//! a path is `format: date`. Done once over the generated document, so no handler's
//! annotation can forget it. Ranges and instant formats sit on the DTO fields instead,
//! beside the checks they describe.

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{KnownFormat, Schema, SchemaFormat};
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

/// Operations on a record that exists once per tenant, if it was set up: 404 until it is.
const SINGLETONS: &[&str] = &[
    "/channels/whatsapp",
    "/channels/webchat",
    "/channels/telegram",
    "/channels/chatwoot",
    "/channels/email",
    "/integrations/asisteclick",
];

/// `naming`: the body schemas that name records by id ([`bodies_naming_records`]).
fn document(op: &mut Operation, path: &str, method: &str, secured: bool, naming: &[String]) {
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
    if secured && !open {
        add(op, "401", "No valid API key (`WWW-Authenticate: Bearer`)");
    }
    let params = op.parameters.as_deref().unwrap_or_default();
    let in_path = params
        .iter()
        .any(|p| matches!(p.parameter_in, ParameterIn::Path));
    let in_query = params
        .iter()
        .any(|p| matches!(p.parameter_in, ParameterIn::Query));
    if in_path || (method != "put" && SINGLETONS.contains(&path)) {
        add(op, "404", "No such record for this tenant");
    }
    if names_a_record(op, naming) {
        add(op, "404", "A record the body names does not exist");
    }
    if in_path && path.contains("{date}") {
        add(op, "422", "The date is not `YYYY-MM-DD`");
        date_format(op);
    }
    if in_query {
        add(op, "400", "An unknown query parameter");
        add(
            op,
            "422",
            "A query parameter is invalid or out of range (`field` names it)",
        );
    }
    if op.request_body.is_some() {
        add(op, "400", "The body is not valid JSON");
        add(op, "413", "The body is too large");
        add(op, "415", "The body is not `application/json`");
        add(op, "422", "A field is invalid (`field` names it)");
    }
}

/// A `{date}` in a path is a calendar day (`format: date`), as the handlers parse it.
fn date_format(op: &mut Operation) {
    let params = op.parameters.iter_mut().flatten();
    for p in params.filter(|p| p.name == "date" && matches!(p.parameter_in, ParameterIn::Path)) {
        if let Some(RefOr::T(Schema::Object(o))) = p.schema.as_mut() {
            o.format = Some(SchemaFormat::KnownFormat(KnownFormat::Date));
        }
    }
}

/// Applies the rules above to every operation of the document.
pub fn document_errors(doc: &mut OpenApi) {
    let secured = doc.security.as_ref().is_some_and(|s| !s.is_empty());
    let naming = bodies_naming_records(doc);
    for (path, item) in doc.paths.paths.iter_mut() {
        let ops = [
            ("get", &mut item.get),
            ("put", &mut item.put),
            ("post", &mut item.post),
            ("delete", &mut item.delete),
            ("patch", &mut item.patch),
        ];
        for (method, op) in ops {
            if let Some(op) = op {
                document(op, path, method, secured, &naming);
            }
        }
    }
}

/// The component schemas with a field that names a record (`calendar_id`, `calendar_ids`…).
fn bodies_naming_records(doc: &OpenApi) -> Vec<String> {
    let Some(components) = doc.components.as_ref() else {
        return Vec::new();
    };
    let names_one = |field: &String| field.ends_with("_id") || field.ends_with("_ids");
    components
        .schemas
        .iter()
        .filter(
            |(_, s)| matches!(s, RefOr::T(Schema::Object(o)) if o.properties.keys().any(names_one)),
        )
        .map(|(name, _)| format!("#/components/schemas/{name}"))
        .collect()
}

/// Whether the operation's JSON body is one of those schemas: its ids may name nothing.
fn names_a_record(op: &Operation, naming: &[String]) -> bool {
    let Some(body) = op.request_body.as_ref() else {
        return false;
    };
    body.content
        .values()
        .any(|c| matches!(&c.schema, Some(RefOr::Ref(r)) if naming.contains(&r.ref_location)))
}
