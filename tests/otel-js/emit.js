// Sends Claude-Code-shaped telemetry through the OpenTelemetry JavaScript SDK's real OTLP HTTP
// exporters (the family Claude Code itself uses), then prints what it sent as JSON on stdout.
//
//   node emit.js '{"url": "http://127.0.0.1:PORT", "token": "...", "protocol": "json"|"proto",
//                  "temporality": "delta"|"cumulative", "sessions": ["s1"], "requests": 3,
//                  "rounds": 2, "gzip": false, "numbers": "string"|"number", "logs": true,
//                  "metrics": true}'
//
// Every round emits `requests` claude_code.api_request log records per session (the attribute
// names Claude Code uses) and adds the same tokens and cost to the claude_code.token.usage and
// claude_code.cost.usage counters, then flushes both exporters: with cumulative temporality the
// second round's points repeat the first round's totals, which a receiver must not count twice.
"use strict";

const { metrics } = require("@opentelemetry/api");
const { SeverityNumber } = require("@opentelemetry/api-logs");
const { resourceFromAttributes } = require("@opentelemetry/resources");
const { MeterProvider, PeriodicExportingMetricReader } = require("@opentelemetry/sdk-metrics");
const { LoggerProvider, BatchLogRecordProcessor } = require("@opentelemetry/sdk-logs");

const opts = JSON.parse(process.argv[2] || "{}");
const protocol = opts.protocol || "json";
const headers = opts.token === null ? {} : { Authorization: `Bearer ${opts.token}` };
const compression = opts.gzip ? "gzip" : "none";
const sessions = opts.sessions || ["session-a"];
const requests = opts.requests ?? 3;
const rounds = opts.rounds ?? 1;
const asString = (opts.numbers || "string") === "string";
const models = ["claude-opus-4-1", "claude-sonnet-4-5"];

function exporters() {
  if (protocol === "proto") {
    const { OTLPMetricExporter } = require("@opentelemetry/exporter-metrics-otlp-proto");
    const { AggregationTemporalityPreference } = require("@opentelemetry/exporter-metrics-otlp-http");
    const { OTLPLogExporter } = require("@opentelemetry/exporter-logs-otlp-proto");
    return { OTLPMetricExporter, OTLPLogExporter, AggregationTemporalityPreference };
  }
  const { OTLPMetricExporter, AggregationTemporalityPreference } = require("@opentelemetry/exporter-metrics-otlp-http");
  const { OTLPLogExporter } = require("@opentelemetry/exporter-logs-otlp-http");
  return { OTLPMetricExporter, OTLPLogExporter, AggregationTemporalityPreference };
}

async function main() {
  const { OTLPMetricExporter, OTLPLogExporter, AggregationTemporalityPreference } = exporters();
  const resource = resourceFromAttributes({ "service.name": "claude-code", "service.version": "2.1.0" });
  const temporality =
    opts.temporality === "cumulative"
      ? AggregationTemporalityPreference.CUMULATIVE
      : AggregationTemporalityPreference.DELTA;
  const metricExporter = new OTLPMetricExporter({
    url: `${opts.url}/v1/metrics`, headers, compression, temporalityPreference: temporality,
  });
  const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3600000 });
  const meterProvider = new MeterProvider({ resource, readers: [reader] });
  metrics.setGlobalMeterProvider(meterProvider);
  const meter = meterProvider.getMeter("com.anthropic.claude_code", "2.1.0");
  const tokenCounter = meter.createCounter("claude_code.token.usage", { unit: "tokens", description: "Number of tokens used" });
  const costCounter = meter.createCounter("claude_code.cost.usage", { unit: "USD", description: "Cost of the Claude Code session" });
  const sessionCounter = meter.createCounter("claude_code.session.count", { description: "Count of CLI sessions started" });

  const logExporter = new OTLPLogExporter({ url: `${opts.url}/v1/logs`, headers, compression });
  const loggerProvider = new LoggerProvider({ resource, processors: [
    new BatchLogRecordProcessor({ exporter: logExporter, maxQueueSize: 100000, maxExportBatchSize: 512, scheduledDelayMillis: 3600000 }),
  ] });
  const logger = loggerProvider.getLogger("com.anthropic.claude_code.events", "2.1.0");

  const sent = { requests: 0, tokens: {}, cost: {}, perSession: {}, errors: [] };
  const num = (v) => (asString ? String(v) : v);
  for (const s of sessions) {
    sessionCounter.add(1, { "session.id": s });
  }
  for (let round = 0; round < rounds; round++) {
    for (const [si, s] of sessions.entries()) {
      for (let i = 0; i < requests; i++) {
        const model = models[(si + i) % models.length];
        const t = { input: 100 + i, output: 20 + i, cacheRead: 1000 + round, cacheCreation: 50 };
        const cost = Math.round((t.input * 3 + t.output * 15 + t.cacheRead * 0.3 + t.cacheCreation * 3.75)) / 1e6;
        const base = { "session.id": s, "user.account_uuid": "acct-1", "terminal.type": "xterm", "app.version": "2.1.0" };
        if (opts.logs !== false) {
          logger.emit({
            severityNumber: SeverityNumber.INFO,
            body: "claude_code.api_request",
            timestamp: Date.now(),
            attributes: {
              ...base,
              "event.name": "api_request",
              "event.timestamp": new Date().toISOString(),
              "prompt.id": `prompt-${round}-${i}`,
              model,
              input_tokens: num(t.input),
              output_tokens: num(t.output),
              cache_read_tokens: num(t.cacheRead),
              cache_creation_tokens: num(t.cacheCreation),
              cost_usd: num(cost),
              duration_ms: num(1200 + i),
            },
          });
          logger.emit({ body: "claude_code.user_prompt", attributes: { ...base, "event.name": "user_prompt", prompt_length: "12" } });
        }
        for (const [type, n] of Object.entries(t)) {
          tokenCounter.add(n, { ...base, model, type });
          sent.tokens[`${model}|${type}`] = (sent.tokens[`${model}|${type}`] || 0) + n;
        }
        costCounter.add(cost, { ...base, model });
        sent.cost[model] = (sent.cost[model] || 0) + cost;
        sent.requests += 1;
        const ps = (sent.perSession[s] = sent.perSession[s] || { requests: 0, tokens: 0, cost: 0 });
        ps.requests += 1;
        ps.tokens += t.input + t.output + t.cacheRead + t.cacheCreation;
        ps.cost += cost;
      }
    }
    if (opts.logs !== false) await loggerProvider.forceFlush();
    if (opts.metrics !== false) await reader.forceFlush();
  }
  await loggerProvider.shutdown().catch((e) => sent.errors.push(String(e)));
  await meterProvider.shutdown().catch((e) => sent.errors.push(String(e)));
  process.stdout.write(JSON.stringify(sent) + "\n");
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err) + "\n");
  process.exit(1);
});
