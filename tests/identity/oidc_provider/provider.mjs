// A real OpenID provider (the certified npm package oidc-provider) for stagewall's
// relying-party tests. Started by tests/identity/conftest.py; prints "READY <port>"
// once it listens on a free loopback port. Configuration comes as one JSON argument:
//   {"clients": [...client metadata...], "accounts": {id: {claims}}, "short_ttl_clients": [...]}
import { createServer } from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';

import Provider from 'oidc-provider';

const config = JSON.parse(process.argv[2]);

function signingKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomBytes(8).toString('hex'), alg: 'RS256', use: 'sig' };
}

const server = createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const shortTtl = new Set(config.short_ttl_clients || []);
  const provider = new Provider(`http://127.0.0.1:${port}`, {
    clients: config.clients,
    jwks: { keys: [signingKey()] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name'],
    },
    features: { devInteractions: { enabled: true } },
    pkce: { required: () => true },
    ttl: {
      // ID tokens of the clients named in short_ttl_clients expire after one second,
      // so a test can present a genuinely expired, provider-signed token.
      IdToken: (ctx, token, client) => (shortTtl.has(client.clientId) ? 1 : 600),
      AccessToken: 600,
      AuthorizationCode: 60,
      Grant: 600,
      Interaction: 600,
      Session: 600,
    },
    async findAccount(ctx, id) {
      const account = config.accounts[id];
      if (!account) return undefined;
      return {
        accountId: id,
        async claims() {
          return { sub: id, ...account };
        },
      };
    },
  });
  provider.on('server_error', (ctx, err) => console.error('server_error', err));
  server.on('request', provider.callback());
  console.log(`READY ${port}`);
});

process.on('SIGTERM', () => server.close(() => process.exit(0)));
