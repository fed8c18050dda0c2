//! A small MCP server for weft's tests, built with rmcp's server side.
//!
//! Built by `cargo test` as the example target `mcp_test_server` (see Cargo.toml); the tests find
//! it next to their own binary, in `target/<profile>/examples/`.
//!
//! Usage: `mcp_test_server stdio` serves on stdin/stdout; `mcp_test_server http` serves
//! streamable HTTP on 127.0.0.1 (a free port) and prints `LISTENING http://127.0.0.1:PORT/mcp`
//! on stdout once it accepts connections.
//!
//! Tools: `echo`, `add` (structured result), `search` (JSON text), `fail` (isError), `crash`
//! (the process exits), `sleep`, `pid`, `env`, `header` (HTTP only), `mixed` (text + image).

use std::time::Duration;

use axum::http::request::Parts;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::Extension;
use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::model::{CallToolResult, ContentBlock, ServerCapabilities, ServerConfig};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ServerHandler, ServiceExt, schemars, tool, tool_handler, tool_router};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct EchoArgs {
    message: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct AddArgs {
    a: f64,
    b: f64,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
struct Sum {
    sum: f64,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct QueryArgs {
    query: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct SleepArgs {
    ms: u64,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct NameArgs {
    name: String,
}

#[derive(Debug, Clone)]
struct TestServer {
    tool_router: ToolRouter<Self>,
}

#[tool_router]
impl TestServer {
    fn new() -> Self {
        TestServer {
            tool_router: Self::tool_router(),
        }
    }

    #[tool(description = "Echo a message back")]
    fn echo(&self, Parameters(EchoArgs { message }): Parameters<EchoArgs>) -> String {
        format!("echo: {message}")
    }

    #[tool(description = "Add two numbers (structured result)")]
    fn add(&self, Parameters(AddArgs { a, b }): Parameters<AddArgs>) -> Json<Sum> {
        Json(Sum { sum: a + b })
    }

    #[tool(description = "Search (results as JSON text)")]
    fn search(&self, Parameters(QueryArgs { query }): Parameters<QueryArgs>) -> String {
        serde_json::json!([{"title": format!("{query} one")}, {"title": format!("{query} two")}])
            .to_string()
    }

    #[tool(description = "Report a tool error")]
    fn fail(&self, Parameters(EchoArgs { message }): Parameters<EchoArgs>) -> CallToolResult {
        CallToolResult::error(vec![ContentBlock::text(message)])
    }

    #[tool(description = "Exit the server process at once")]
    fn crash(&self) -> String {
        std::process::exit(3)
    }

    #[tool(description = "Answer after `ms` milliseconds")]
    async fn sleep(&self, Parameters(SleepArgs { ms }): Parameters<SleepArgs>) -> String {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        "slept".to_string()
    }

    #[tool(description = "The server's process id")]
    fn pid(&self) -> String {
        std::process::id().to_string()
    }

    #[tool(description = "An environment variable of the server")]
    fn env(&self, Parameters(NameArgs { name }): Parameters<NameArgs>) -> String {
        std::env::var(name).unwrap_or_default()
    }

    #[tool(description = "A header of the HTTP request that carried the call")]
    fn header(
        &self,
        Parameters(NameArgs { name }): Parameters<NameArgs>,
        Extension(parts): Extension<Parts>,
    ) -> String {
        parts
            .headers
            .get(name.as_str())
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    }

    #[tool(description = "A text block and an image block")]
    fn mixed(&self) -> CallToolResult {
        CallToolResult::success(vec![
            ContentBlock::text("caption"),
            ContentBlock::image("AAAA", "image/png"),
        ])
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for TestServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    match std::env::args().nth(1).as_deref() {
        Some("http") => serve_http().await,
        _ => {
            let running = TestServer::new().serve(rmcp::transport::stdio()).await?;
            running.waiting().await?;
            Ok(())
        }
    }
}

async fn serve_http() -> Result<(), Box<dyn std::error::Error>> {
    let service: StreamableHttpService<TestServer, LocalSessionManager> =
        StreamableHttpService::new(
            || Ok(TestServer::new()),
            Default::default(),
            StreamableHttpServerConfig::default().with_sse_keep_alive(None),
        );
    let router = axum::Router::new().nest_service("/mcp", service);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    println!("LISTENING http://{addr}/mcp");
    axum::serve(listener, router).await?;
    Ok(())
}
