//! Conversation variables (flat, dotted names: `customer.name`, `fields.insurance`) and the
//! minijinja templates that read them.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// `customer.name`, `slot_text`, `fields.insurance`: lowercase words joined by dots.
pub fn is_name(name: &str) -> bool {
    !name.is_empty()
        && name.split('.').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                && !part.starts_with(|c: char| c.is_ascii_digit())
        })
}

pub fn check_template(text: &str) -> Result<(), String> {
    let env = minijinja::Environment::new();
    env.template_from_str(text)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Dotted names become nested objects, so `{{ customer.name }}` reads `customer.name`.
fn context(vars: &BTreeMap<String, String>) -> Value {
    let mut root = Map::new();
    for (name, value) in vars {
        let mut parts: Vec<&str> = name.split('.').collect();
        let last = parts.pop().unwrap_or_default();
        let mut cur = &mut root;
        for p in parts {
            let entry = cur
                .entry(p.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            cur = entry.as_object_mut().expect("made an object just above");
        }
        cur.insert(last.to_string(), Value::String(value.clone()));
    }
    Value::Object(root)
}

/// Renders a template. A variable nobody set reads as empty, also behind a dot
/// (`{% if customer.name %}` with no customer known), so a greeting works before anything is
/// known. A flow is checked before it is accepted, so a failure here (an undefined filter at
/// run time) is rare; then the text is said with its template tags left out, never as its
/// source.
pub fn render(text: &str, vars: &BTreeMap<String, String>) -> String {
    if !text.contains("{{") && !text.contains("{%") {
        return text.to_string();
    }
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
    env.render_str(text, context(vars))
        .unwrap_or_else(|_| without_tags(text))
}

/// The text outside `{{ … }}`, `{% … %}` and `{# … #}`, spaces tidied.
fn without_tags(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let close = match rest[open..].chars().nth(1) {
            Some('{') => "}}",
            Some('%') => "%}",
            Some('#') => "#}",
            _ => {
                out.push_str(&rest[..=open]);
                rest = &rest[open + 1..];
                continue;
            }
        };
        out.push_str(&rest[..open]);
        rest = match rest[open + 2..].find(close) {
            Some(end) => &rest[open + 2 + end + 2..],
            None => "",
        };
    }
    out.push_str(rest);
    out.split(' ')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn dotted_variables_read_as_nested_names_in_templates() {
        let vars = [("customer.name".to_string(), "Ana".to_string())].into();
        assert_eq!(
            super::render("{% if customer.name == 'Ana' %}yes{% endif %}", &vars),
            "yes"
        );
        assert_eq!(super::render("Hola {{ customer.name }}", &vars), "Hola Ana");
    }

    #[test]
    fn a_greeting_with_nothing_known_reads_as_a_greeting_not_its_template() {
        let none = Default::default();
        assert_eq!(
            super::render(
                "¡Hola{% if customer.name %} {{ customer.name }}{% endif %}!",
                &none
            ),
            "¡Hola!"
        );
        assert_eq!(super::render("Hola {{ customer.name }}.", &none), "Hola .");
    }

    #[test]
    fn a_text_that_cannot_render_is_said_without_its_tags() {
        let none = Default::default();
        let out = super::render("Turno {{ when | no_such_filter }} confirmado", &none);
        assert_eq!(out, "Turno confirmado");
    }

    /// Every text of every built-in flow, rendered with nothing known: no template source
    /// ever reaches a person.
    #[test]
    fn every_built_in_text_renders_with_nothing_known() {
        fn texts(v: &serde_json::Value, out: &mut Vec<String>) {
            match v {
                serde_json::Value::String(s) => out.push(s.clone()),
                serde_json::Value::Array(a) => a.iter().for_each(|v| texts(v, out)),
                serde_json::Value::Object(o) => o.values().for_each(|v| texts(v, out)),
                _ => {}
            }
        }
        let none = Default::default();
        for (language, raw) in [
            ("es", include_str!("defaults/es.json")),
            ("pt", include_str!("defaults/pt.json")),
            ("en", include_str!("defaults/en.json")),
        ] {
            let mut all = Vec::new();
            texts(&serde_json::from_str(raw).unwrap(), &mut all);
            let templated: Vec<&String> = all
                .iter()
                .filter(|t| t.contains("{{") || t.contains("{%"))
                .collect();
            assert!(
                !templated.is_empty(),
                "{language}: the built-in flow has templates"
            );
            for t in templated {
                let out = super::render(t, &none);
                for tag in ["{{", "}}", "{%", "%}"] {
                    assert!(!out.contains(tag), "{language}: {t:?} rendered as {out:?}");
                }
            }
        }
    }
}
