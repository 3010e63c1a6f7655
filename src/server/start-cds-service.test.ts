import { requirePublicBaseUrl } from './start-cds-service';

it('refuses to start with client trust on and no PUBLIC_BASE_URL (the audience never comes from the Host header)', () => {
  expect(() => requirePublicBaseUrl({}, { trustClients: true })).toThrow(/PUBLIC_BASE_URL is unset/);
});

it('starts with trust on and a public base URL, or with trust off', () => {
  expect(() => requirePublicBaseUrl({ publicBaseUrl: 'https://cds.example.org' }, { trustClients: true })).not.toThrow();
  expect(() => requirePublicBaseUrl({}, { trustClients: false })).not.toThrow();
});
