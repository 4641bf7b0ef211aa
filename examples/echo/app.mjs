// A minimal enclave app: it echoes what it receives. Run it with
//   veritee serve examples/echo/app.mjs --port 8080 --provider sim
// and talk to it with
//   veritee connect http://127.0.0.1:8080 --trust-sim --send hello
export default function echo(request) {
  return request;
}
