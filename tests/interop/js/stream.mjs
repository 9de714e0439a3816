// masto.js against a Mastodon-compatible server, the way Elk and Phanpy use it: discover the
// streaming URL from /api/v2/instance, open one WebSocket (token as subprotocol), subscribe to
// public:local, hashtag and user by message, then cause events through masto.js's REST client.
//
// Prints one JSON line per observation ({"kind":"event",...}, {"kind":"posted",...}) and a final
// {"kind":"done"} (exit 0) or {"kind":"timeout","missing":[...]} (exit 1). A subscription that
// throws (masto.js throws on error frames and frames it cannot parse) prints {"kind":"error"}
// and exits 2. Tokens come from the environment and are never printed.
//
// Environment: MSC_INTEROP_URL (REST base), MSC_INTEROP_TOKEN (poster, subscriber),
// MSC_INTEROP_SECOND_TOKEN (favourites), MSC_INTEROP_TAG (subscribed spelling),
// MSC_INTEROP_TIMEOUT_S (overall deadline, default 20).

import { createRestAPIClient, createStreamingAPIClient } from "masto";

const url = process.env.MSC_INTEROP_URL;
const token = process.env.MSC_INTEROP_TOKEN;
const secondToken = process.env.MSC_INTEROP_SECOND_TOKEN;
const tag = process.env.MSC_INTEROP_TAG ?? "InteropJS";
const timeoutS = Number(process.env.MSC_INTEROP_TIMEOUT_S ?? "20");
// How long one posted status may take to reach every subscription before another is posted:
// Mastodon does not acknowledge subscriptions, so the first post can race the subscribe messages.
const ROUND_MS = 1000;

const emit = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);

if (!url || !token || !secondToken) {
  emit({ kind: "usage", error: "MSC_INTEROP_URL, MSC_INTEROP_TOKEN, MSC_INTEROP_SECOND_TOKEN" });
  process.exit(64);
}

const seen = []; // {sub, event, stream, id, type, status_id, payload_type}
let waiters = [];

function record(sub, event) {
  const payload = event.payload;
  const entry = {
    kind: "event",
    sub,
    event: event.event,
    stream: event.stream,
    payload_type: typeof payload,
  };
  if (event.event === "delete") {
    entry.id = payload;
  } else if (payload && typeof payload === "object") {
    entry.id = payload.id;
    if (event.event === "notification") {
      entry.type = payload.type;
      entry.status_id = payload.status?.id;
    } else {
      entry.content = payload.content;
    }
  }
  seen.push(entry);
  emit(entry);
  for (const waiter of waiters) waiter();
}

function waitFor(predicate, ms) {
  return new Promise((resolve) => {
    if (predicate()) {
      resolve(true);
      return;
    }
    const check = () => {
      if (predicate()) {
        cleanup();
        resolve(true);
      }
    };
    const timer = setTimeout(() => {
      cleanup();
      resolve(predicate());
    }, ms);
    const cleanup = () => {
      clearTimeout(timer);
      waiters = waiters.filter((w) => w !== check);
    };
    waiters.push(check);
  });
}

const has = (sub, event, id, extra = () => true) =>
  seen.some((e) => e.sub === sub && e.event === event && e.id === id && extra(e));

const SUBS = ["public:local", "hashtag", "user"];
let expected = [];
const missing = () => expected.filter(([, test]) => !test()).map(([label]) => label);

const deadline = setTimeout(() => {
  emit({ kind: "timeout", missing: missing() });
  process.exit(1);
}, timeoutS * 1000);

async function consume(sub, subscription) {
  try {
    for await (const event of subscription) record(sub, event);
  } catch (error) {
    emit({ kind: "error", sub, error: String(error?.message ?? error) });
    process.exit(2);
  }
}

const rest = createRestAPIClient({ url, accessToken: token, timeout: 10_000 });
const restSecond = createRestAPIClient({ url, accessToken: secondToken, timeout: 10_000 });

const instance = await rest.v2.instance.fetch();
const streamingApiUrl = instance.configuration.urls.streaming;
emit({ kind: "discovered", streaming: streamingApiUrl, version: instance.version });

const streaming = createStreamingAPIClient({ streamingApiUrl, accessToken: token, retry: 3 });
consume("public:local", streaming.public.local.subscribe());
consume("hashtag", streaming.hashtag.subscribe({ tag }));
consume("user", streaming.user.subscribe());

// Post until one status has reached all three subscriptions; later steps reuse that status.
let status;
for (let round = 1; ; round += 1) {
  const posted = await rest.v1.statuses.create({
    status: `masto.js interop round ${round} #${tag.toLowerCase()}`,
    visibility: "public",
  });
  emit({ kind: "posted", id: posted.id, round });
  const arrived = await waitFor(() => SUBS.every((s) => has(s, "update", posted.id)), ROUND_MS);
  if (arrived) {
    status = posted;
    break;
  }
}

expected = [
  ["user notification favourite", () =>
    seen.some((e) => e.sub === "user" && e.event === "notification" &&
      e.type === "favourite" && e.status_id === status.id)],
  ...SUBS.map((s) => [`${s} status.update`, () => has(s, "status.update", status.id)]),
  ...SUBS.map((s) => [`${s} delete`, () => has(s, "delete", status.id)]),
];

await restSecond.v1.statuses.$select(status.id).favourite();
await waitFor(() => expected[0][1](), ROUND_MS * 5);
await rest.v1.statuses.$select(status.id).update({ status: `edited #${tag.toLowerCase()}` });
await waitFor(() => SUBS.every((s) => has(s, "status.update", status.id)), ROUND_MS * 5);
await rest.v1.statuses.$select(status.id).remove();
await waitFor(() => missing().length === 0, timeoutS * 1000);

if (missing().length === 0) {
  clearTimeout(deadline);
  emit({ kind: "done", status_id: status.id });
  streaming.close();
  process.exit(0);
}
