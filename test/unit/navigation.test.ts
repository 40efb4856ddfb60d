/** Navigation pages (tables of contents, indexes) are recognised from a chunk's text; short content pages are not. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isNavigation } from '../../src/kb/ingest/navigation.js';

test('a table of contents with dotted leaders is navigation, with or without line breaks', () => {
  const toc = ['Contents', '1. Introduction ........ 3', '2. Installing . . . . . . 5', '3. Profiles ········ 9', '4. Schedules ..... 12'];
  assert.equal(isNavigation(toc.join('\n')), true);
  assert.equal(isNavigation(toc.join(' ')), true);
});

test('an index or contents without leaders is navigation when it is mostly page numbers', () => {
  assert.equal(isNavigation('Index delimiter 3, 4 date format 3 defaults 4 exporter.toml 4, 5 profiles 5 schedules 6'), true);
  assert.equal(isNavigation('Introduction 1 Installing 5 Profiles 9 Schedules 12 Limits 14', 'Table of contents'), true);
});

test('short content pages, numbered steps and tables of figures are not navigation', () => {
  assert.equal(isNavigation('Support Phone support is open from 9 to 17 CET on weekdays.'), false);
  assert.equal(isNavigation('1. Click New export. 2. Pick the table. 3. Choose CSV. 4. Click Run.'), false);
  assert.equal(isNavigation('Plan limits Team 40 exports a day, 5 schedules, 10 users. Business 400, 50, 100.'), false);
  assert.equal(isNavigation('Index rebuilds take about 10 minutes for a database of 2 GB and run at night.'), false);
});
