/**
 * Names for the sign-in / organisation shapes (generated from the API's OpenAPI document),
 * and the development issuer's token endpoint, which the document leaves out: it exists only
 * when the API runs with LOGDAWG_AUTH_PROVIDER=dev on one machine.
 */
import type { components } from "./schema";

type S = components["schemas"];
export type Role = S["Role"];
export type AuthConfig = S["AuthConfig"];
export type OrgOut = S["OrgOut"];
export type Me = S["Me"];
export type ApiKeyCreated = S["ApiKeyCreated"];
export type InvitationCreated = S["InvitationCreated"];

type Json<T> = { content: { "application/json": T } };

export interface DevIssuerPaths {
  "/dev-issuer/token": {
    parameters: { query?: never; header?: never; path?: never; cookie?: never };
    get?: never;
    put?: never;
    post: {
      parameters: { query?: never; header?: never; path?: never; cookie?: never };
      requestBody: Json<{ email: string; name: string }>;
      responses: {
        200: { headers: Record<string, unknown> } & Json<{ access_token: string; token_type: "Bearer"; expires_in: number }>;
        default: { headers: Record<string, unknown> } & Json<{ detail?: string }>;
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
}
