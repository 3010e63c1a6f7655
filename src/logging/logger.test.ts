import { createLogger } from './logger';

function capture(level = 'info') {
  const lines: string[] = [];
  const logger = createLogger({ level, destination: { write: (line: string) => void lines.push(line) } });
  return { logger, lines, parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('createLogger', () => {
  it('writes one JSON object per line with level, ISO time and message', () => {
    const { logger, parsed } = capture();
    logger.info({ requestId: 'r1' }, 'hello');
    expect(parsed()).toEqual([{ level: 30, time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), requestId: 'r1', msg: 'hello' }]);
  });

  it('honours the level', () => {
    const { logger, lines } = capture('warn');
    logger.info('quiet');
    logger.warn('loud');
    expect(lines).toHaveLength(1);
  });

  it('censors credentials wherever a careless call passes them', () => {
    const { logger, lines, parsed } = capture();
    logger.info(
      {
        req: { headers: { authorization: 'Bearer secret-jwt-1' } },
        authorization: 'Bearer secret-jwt-2',
        fhirAuthorization: { access_token: 'secret-at-1' },
        context: { access_token: 'secret-at-2', accessToken: 'secret-at-3' },
        accessToken: 'secret-at-4',
        token: 'secret-at-5',
      },
      'oops',
    );
    expect(lines.join('')).not.toMatch(/secret-/);
    expect(parsed()[0]).toMatchObject({
      req: { headers: { authorization: '[redacted]' } },
      authorization: '[redacted]',
      fhirAuthorization: '[redacted]',
      context: { access_token: '[redacted]', accessToken: '[redacted]' },
    });
  });
});
