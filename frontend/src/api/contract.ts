/**
 * The sign-in / organisations endpoints of the auth contract (issue 8), typed by hand until
 * they are in the API's OpenAPI document; then `scripts/gen-api-client` covers them and this
 * file goes away.
 */
type Json<T> = { content: { "application/json": T } };
type Problem = { detail?: string };
type Errors = { default: Json<Problem> };

export type Role = "owner" | "admin" | "member" | "viewer";

export interface AuthConfig {
  mode: "single_tenant" | "multi_tenant";
  provider: "none" | "entra" | "dev";
  authority: string | null;
  client_id: string | null;
  scopes: string[];
  dev_issuer_url: string | null;
}
export interface OrgOut {
  id: string;
  slug: string;
  name: string;
  role: Role;
}
export interface Me {
  user: { id: string; display_name: string; email: string } | null;
  organisations: OrgOut[];
}
export interface ApiKeyOut {
  id: string;
  name: string;
  prefix: string;
  scopes: ("ingest" | "read")[];
  expires_at: string | null;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}
export interface ApiKeyCreated extends Omit<ApiKeyOut, "revoked_at"> {
  key: string;
}
export interface MemberOut {
  user_id: string;
  display_name: string;
  email: string;
  role: Role;
  created_at: string;
}
export interface InvitationOut {
  id: string;
  email: string;
  role: Role;
  expires_at: string;
  token?: string;
  accept_path?: string;
}

type IdParam = { parameters: { path: { id: string } } };

export interface ContractPaths {
  "/api/v1/auth/config": { get: { responses: { 200: Json<AuthConfig> } & Errors } };
  "/api/v1/me": { get: { responses: { 200: Json<Me> } & Errors } };
  "/api/v1/api-keys": {
    get: { responses: { 200: Json<ApiKeyOut[]> } & Errors };
    post: {
      requestBody: Json<{ name: string; scopes: ("ingest" | "read")[]; expires_at?: string }>;
      responses: { 201: Json<ApiKeyCreated> } & Errors;
    };
  };
  "/api/v1/api-keys/{id}": { delete: IdParam & { responses: { 204: { content?: never } } & Errors } };
  "/api/v1/members": { get: { responses: { 200: Json<MemberOut[]> } & Errors } };
  "/api/v1/members/{user_id}": {
    patch: {
      parameters: { path: { user_id: string } };
      requestBody: Json<{ role: Role }>;
      responses: { 200: Json<MemberOut> } & Errors;
    };
    delete: {
      parameters: { path: { user_id: string } };
      responses: { 204: { content?: never } } & Errors;
    };
  };
  "/api/v1/invitations": {
    get: { responses: { 200: Json<InvitationOut[]> } & Errors };
    post: {
      requestBody: Json<{ email: string; role: Role }>;
      responses: { 201: Json<InvitationOut> } & Errors;
    };
  };
  "/api/v1/invitations/{id}": {
    delete: IdParam & { responses: { 204: { content?: never } } & Errors };
  };
  "/dev-issuer/token": {
    post: {
      requestBody: Json<{ email: string; name: string }>;
      responses: {
        200: Json<{ access_token: string; token_type: "Bearer"; expires_in: number }>;
      } & Errors;
    };
  };
}
