//! Event type detection for spans started without an explicit type, as the reference SDK
//! does it, first match wins: `gen_ai.operation.name`, then `openinference.span.kind`, then
//! a model-ish word in the lower-cased name, then a model attribute key, else `tool`.

use opentelemetry::KeyValue;

const MODEL_NAME_HINTS: [&str; 20] = [
    "llm",
    "model",
    "gpt",
    "claude",
    "llama",
    "gemini",
    "mistral",
    "palm",
    "chat",
    "completion",
    "generate",
    "inference",
    "openai",
    "anthropic",
    "bedrock",
    "google",
    "generativeai",
    "ai_",
    "ml_",
    "nlp_",
];

const MODEL_ATTRIBUTE_KEYS: [&str; 13] = [
    "llm.request.model",
    "llm.response.model",
    "llm.model.name",
    "gen_ai.request.model",
    "gen_ai.response.model",
    "openai.model",
    "anthropic.model",
    "bedrock.model_id",
    "google.model",
    "model_name",
    "model_id",
    "model_type",
    "ai_model",
];

/// The reference's detection order: explicit `honeyhive_event_type`, `gen_ai.operation.name`,
/// `openinference.span.kind`, name heuristics, model attribute keys, else `tool`.
pub fn detect(name: &str, attributes: &[KeyValue]) -> &'static str {
    let get = |key: &str| {
        attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| kv.value.as_str().into_owned())
    };
    for key in ["honeyhive_event_type", "honeyhive_event_type_raw"] {
        if let Some(v) = get(key) {
            match v.as_str() {
                "model" => return "model",
                "chain" => return "chain",
                "tool" => return "tool",
                _ => {}
            }
        }
    }
    if let Some(op) = get("gen_ai.operation.name") {
        match op.as_str() {
            "chat" | "text_completion" | "generate_content" | "embeddings" => return "model",
            "invoke_agent" | "create_agent" | "invoke_workflow" => return "chain",
            "execute_tool" | "retrieval" => return "tool",
            _ => {}
        }
    }
    if let Some(kind) = get("openinference.span.kind") {
        return match kind.to_ascii_uppercase().as_str() {
            "LLM" => "model",
            "CHAIN" | "AGENT" => "chain",
            _ => "tool",
        };
    }
    let lower = name.to_ascii_lowercase();
    if MODEL_NAME_HINTS.iter().any(|h| lower.contains(h)) {
        return "model";
    }
    if attributes
        .iter()
        .any(|kv| MODEL_ATTRIBUTE_KEYS.contains(&kv.key.as_str()))
    {
        return "model";
    }
    "tool"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_order() {
        assert_eq!(detect("openai.chat", &[]), "model");
        assert_eq!(detect("retrieve_docs", &[]), "tool");
        assert_eq!(
            detect(
                "x",
                &[KeyValue::new("gen_ai.operation.name", "invoke_agent")]
            ),
            "chain"
        );
        assert_eq!(
            detect("x", &[KeyValue::new("openinference.span.kind", "LLM")]),
            "model"
        );
        assert_eq!(
            detect("x", &[KeyValue::new("gen_ai.request.model", "gpt-4")]),
            "model"
        );
        assert_eq!(
            detect("chat", &[KeyValue::new("honeyhive_event_type", "chain")]),
            "chain"
        );
    }
}
