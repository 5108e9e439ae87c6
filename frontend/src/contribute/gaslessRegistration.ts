import type { Address, Hex } from "viem";

/** The app server's relay (`npm run app`): submits a signed registration from its relayer account. */
export const RELAY_REGISTRATION_ENDPOINT = "/api/relay-registration";

/** How long a gasless registration signature stays valid. */
export const REGISTRATION_VALIDITY_SECONDS = 600n;

/** What the contributor signs and the relayer submits to `registerWithSignature`. */
export interface SignedRegistration {
  readonly contributor: Address;
  readonly metadataURI: string;
  readonly deadline: string;
  readonly signature: Hex;
}

/** Hands a signed registration to the app server's relayer; returns the relayed transaction's hash. */
export async function relayRegistration(
  signed: SignedRegistration,
  fetchFn: typeof fetch = (...a) => fetch(...a),
): Promise<Hex> {
  const response = await fetchFn(RELAY_REGISTRATION_ENDPOINT, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(signed),
  });
  if (response.status === 404) {
    throw new Error(
      "This server has no relayer. Start the app with `npm run app`, or register with a transaction (you pay the gas).",
    );
  }
  const body = (await response.json().catch(() => ({}))) as { hash?: Hex; error?: string };
  if (!response.ok || body.hash === undefined) {
    throw new Error(`The relayer did not submit the registration: ${body.error ?? `HTTP ${response.status}`}`);
  }
  return body.hash;
}
