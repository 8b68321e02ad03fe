/**
 * The server-rendered pages and the apps say the same words for a status: src/server/page-words.ts
 * and web/shared/words.ts agree on every trade and bank order status, in both languages.
 */
import { describe, expect, it } from 'vitest';
import { orderStatusEn, orderStatusZh, tradeStatusEn, tradeStatusZh } from '../../src/server/page-words.ts';
import { wordsEn, wordsZh } from '../../web/shared/words.ts';

describe('status words', () => {
  it('are the apps’ words on the pages, for every trade and bank order status', () => {
    const apps = (words: Record<string, string>, prefix: string) =>
      Object.fromEntries(
        Object.entries(words)
          .filter(([key]) => key.startsWith(prefix))
          .map(([key, word]) => [key.slice(prefix.length), word]),
      );
    expect(apps(wordsEn, 'trade.')).toEqual(tradeStatusEn);
    expect(apps(wordsZh, 'trade.')).toEqual(tradeStatusZh);
    expect(apps(wordsEn, 'order.')).toEqual(orderStatusEn);
    expect(apps(wordsZh, 'order.')).toEqual(orderStatusZh);
  });
});
