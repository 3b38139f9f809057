import TransportStream from 'winston-transport';
import { createLogger } from './logger';

/** Keeps what reaches the transports, after the format chain (redaction included). */
class Capture extends TransportStream {
  lines: Record<string, unknown>[] = [];
  override log(info: Record<string, unknown>, next: () => void): void {
    this.lines.push(info);
    next();
  }
}

function setup(level: string) {
  const logger = createLogger({ level, silent: false });
  logger.clear();
  const capture = new Capture();
  logger.add(capture);
  return { logger, capture };
}

describe('createLogger levels', () => {
  it('drops entries below the level before formatting them, and keeps the rest', () => {
    const { logger, capture } = setup('warn');
    let reads = 0;
    const meta = {
      get phone() {
        reads += 1;
        return '+491604366218';
      },
    };
    logger.info('not wanted', meta);
    logger.debug('not wanted either', meta);
    expect(reads).toBe(0);
    logger.warn('wanted', meta);
    expect(reads).toBeGreaterThan(0);
    expect(capture.lines.map((l) => l.message)).toEqual(['wanted']);
    expect(capture.lines[0]!.phone).toBe('+49****18');
  });

  it('follows a level changed at run time, and works for child loggers', () => {
    const { logger, capture } = setup('warn');
    const child = logger.child({ component: 'x' });
    child.info('dropped');
    logger.level = 'info';
    child.info('kept');
    logger.info('kept too');
    expect(capture.lines.map((l) => [l.message, l.component])).toEqual([
      ['kept', 'x'],
      ['kept too', undefined],
    ]);
  });
});
