import { type Static, Type } from '@sinclair/typebox';
import { Nullable, Text } from './common.js';

/** A principal's or group's name: 1 to 256 characters. */
const Name = Text(256, { minLength: 1 });

/** `POST /auth/tokens`: a new API token. */
export const TokenCreateBody = Type.Object(
  {
    name: Text(256, { minLength: 1, description: 'What the token is for (shown in lists).' }),
    subject: Type.Optional(
      Text(256, { minLength: 1, description: "The principal it stands for: runs' owner. Default: `name`." }),
    ),
    groups: Type.Optional(
      Type.Array(Name, {
        maxItems: 100,
        description: 'Its groups (`admin`: every permission under the default policy).',
      }),
    ),
    expires_in_s: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 100 * 365 * 86_400,
        description: 'Seconds until it expires; default never.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type TokenCreateBody = Static<typeof TokenCreateBody>;

/** An API token as listed: never the token itself. */
export const TokenInfo = Type.Object({
  token_id: Type.String(),
  name: Type.String(),
  subject: Type.String(),
  groups: Type.Array(Type.String()),
  created_at: Type.String({ format: 'date-time' }),
  created_by: Type.String(),
  expires_at: Nullable(Type.String({ format: 'date-time' })),
  revoked_at: Nullable(Type.String({ format: 'date-time' })),
});
export type TokenInfo = Static<typeof TokenInfo>;

/** The answer of `POST /auth/tokens`: the token, shown this once. */
export const TokenCreated = Type.Intersect([TokenInfo, Type.Object({ token: Type.String() })]);
export type TokenCreated = Static<typeof TokenCreated>;

export const TokenList = Type.Object({ total: Type.Integer(), tokens: Type.Array(TokenInfo) });
export type TokenList = Static<typeof TokenList>;

/** Who the request is. */
export const WhoAmI = Type.Object({
  mode: Type.Union([Type.Literal('none'), Type.Literal('token'), Type.Literal('oidc')]),
  subject: Type.String(),
  groups: Type.Array(Type.String()),
  via: Type.String({ description: '`none`, `token`, `jwt` or `bootstrap`.' }),
});
export type WhoAmI = Static<typeof WhoAmI>;

/** `POST /auth/session`: a token to sign the UI in with. */
export const SessionBody = Type.Object(
  { token: Text(8192, { minLength: 1, description: 'An API token or an OIDC JWT.' }) },
  { additionalProperties: false },
);

/** The answer of `POST /auth/session`: who signed in and the CSRF token to send as `x-galley-csrf`. */
export const Session = Type.Intersect([WhoAmI, Type.Object({ csrf: Type.String() })]);
export type Session = Static<typeof Session>;

/** One audit entry. */
export const AuditEntry = Type.Object({
  audit_id: Type.Integer(),
  at: Type.String({ format: 'date-time' }),
  subject: Nullable(Type.String()),
  method: Type.String(),
  route: Type.String(),
  path: Type.String(),
  ids: Type.Record(Type.String(), Type.String()),
  ip: Type.String(),
  status: Type.Integer(),
});
export type AuditEntry = Static<typeof AuditEntry>;

export const AuditList = Type.Object({
  total: Type.Integer(),
  limit: Type.Integer(),
  offset: Type.Integer(),
  entries: Type.Array(AuditEntry),
});
export type AuditList = Static<typeof AuditList>;

/** The audit list's filters and paging (at most 1000 entries a page). */
export const AuditQuery = Type.Object(
  {
    subject: Type.Optional(Text(256, { minLength: 1 })),
    method: Type.Optional(Type.Union(['POST', 'PUT', 'PATCH', 'DELETE'].map((m) => Type.Literal(m)))),
    status: Type.Optional(Type.Integer({ minimum: 100, maximum: 599 })),
    since: Type.Optional(Type.String({ format: 'date-time', description: 'Entries at or after this time.' })),
    until: Type.Optional(Type.String({ format: 'date-time', description: 'Entries before this time.' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000_000, default: 0 })),
  },
  { additionalProperties: false },
);
export type AuditQuery = Static<typeof AuditQuery>;
