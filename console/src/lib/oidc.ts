// Deployed stages sign in through the stage's Cognito user pool: OIDC authorization code + PKCE with
// oidc-client-ts (loaded only on those stages). The ID token is what API Gateway's Cognito authorizer
// checks; it goes into the same session store as a local token (sessionStorage, never a URL).
import { config } from './config'
import { signIn } from './auth'

async function manager() {
  const { UserManager, WebStorageStateStore } = await import('oidc-client-ts')
  const cognito = config().cognito
  if (!cognito) throw new Error('config.json has no cognito settings')
  return new UserManager({
    authority: cognito.authority,
    client_id: cognito.clientId,
    redirect_uri: `${window.location.origin}/callback`,
    response_type: 'code',
    scope: 'openid email profile',
    userStore: new WebStorageStateStore({ store: window.sessionStorage }),
  })
}

export async function startSignIn(returnTo: string): Promise<void> {
  await (await manager()).signinRedirect({ state: { returnTo } })
}

export async function finishSignIn(): Promise<string> {
  const user = await (await manager()).signinRedirectCallback()
  if (!user.id_token) throw new Error('the identity provider returned no ID token')
  signIn({ token: user.id_token, user: String(user.profile.sub), name: String(user.profile.name ?? user.profile.email ?? '') })
  return ((user.state as { returnTo?: string } | undefined)?.returnTo) ?? '/'
}
