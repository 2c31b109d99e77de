/*
 * The query protocol's XML, as IAM and STS write it and botocore's query parser reads it:
 * `<ActionResponse xmlns="..."><ActionResult>...</ActionResult><ResponseMetadata><RequestId>` for
 * results, lists as `<member>` elements, timestamps in ISO 8601 (seconds, `Z`), and
 * `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>` for errors.
 */

/** A value of a result tree: scalars, timestamps, lists (of `<member>`s) and structures. */
export type XmlValue =
  | string
  | number
  | boolean
  | Date
  | null
  | undefined
  | readonly XmlValue[]
  | { readonly [member: string]: XmlValue };

/**
 * Escapes text for XML content and attribute values. Carriage returns survive as &#13;; characters
 * XML 1.0 cannot carry at all (other C0 controls) become U+FFFD.
 */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"'\r\x00-\x08\x0B\x0C\x0E-\x1F]/g, (c) => {
    switch (c) {
      case '&': return '&amp;';
      case '<': return '&lt;';
      case '>': return '&gt;';
      case '"': return '&quot;';
      case "'": return '&apos;';
      case '\r': return '&#13;';
      default: return '\uFFFD';
    }
  });
}

/** IAM's timestamp form: `2024-05-01T12:34:56Z`. */
export function isoSeconds(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** One element and its content; undefined and null members are left out. */
export function element(name: string, value: XmlValue): string {
  if (value === undefined || value === null) return '';
  if (value instanceof Date) return `<${name}>${isoSeconds(value)}</${name}>`;
  if (Array.isArray(value)) return `<${name}>${value.map((v) => element('member', v)).join('')}</${name}>`;
  if (typeof value === 'object') return `<${name}>${children(value as Record<string, XmlValue>)}</${name}>`;
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

/** The elements of a structure's members, in their order. */
function children(members: Record<string, XmlValue>): string {
  let out = '';
  for (const [k, v] of Object.entries(members)) out += element(k, v);
  return out;
}

/** A successful response: the action's result (none for operations without output) and the request id. */
export function resultDocument(
  action: string,
  namespace: string,
  result: Readonly<Record<string, XmlValue>> | undefined,
  requestId: string,
): string {
  const body = result === undefined ? '' : `<${action}Result>${children(result)}</${action}Result>`;
  return (
    `<${action}Response xmlns="${namespace}">${body}` +
    `<ResponseMetadata><RequestId>${escapeXml(requestId)}</RequestId></ResponseMetadata></${action}Response>`
  );
}

/** An error response; `Sender` for the caller's faults, `Receiver` for the server's. */
export function errorDocument(namespace: string, code: string, message: string, requestId: string, type: 'Sender' | 'Receiver'): string {
  return (
    `<ErrorResponse xmlns="${namespace}"><Error><Type>${type}</Type><Code>${escapeXml(code)}</Code>` +
    `<Message>${escapeXml(message)}</Message></Error><RequestId>${escapeXml(requestId)}</RequestId></ErrorResponse>`
  );
}
