/** The invite link: permission bits equal to discord.js's, their exact sum, and the application id decoded from a token. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PermissionFlagsBits } from 'discord.js';
import { BOT_PERMISSIONS, INVITE_PERMISSIONS, applicationIdFromToken, inviteUrl } from '../../src/bot/invite.js';

test('each hard-coded permission bit is discord.js’s, and the link asks for exactly those five', () => {
  for (const [name, bit] of Object.entries(BOT_PERMISSIONS)) {
    assert.equal(bit, PermissionFlagsBits[name as keyof typeof PermissionFlagsBits], name);
  }
  const expected =
    PermissionFlagsBits.ViewChannel |
    PermissionFlagsBits.SendMessages |
    PermissionFlagsBits.SendMessagesInThreads |
    PermissionFlagsBits.CreatePublicThreads |
    PermissionFlagsBits.ReadMessageHistory;
  assert.equal(INVITE_PERMISSIONS, expected);
  assert.equal(INVITE_PERMISSIONS, 309237713920n);
  assert.deepEqual(Object.keys(BOT_PERMISSIONS).sort(), [
    'CreatePublicThreads',
    'ReadMessageHistory',
    'SendMessages',
    'SendMessagesInThreads',
    'ViewChannel',
  ]);
  assert.equal(
    inviteUrl('123456789012345678'),
    'https://discord.com/oauth2/authorize?client_id=123456789012345678&scope=bot+applications.commands&permissions=309237713920',
  );
});

test('the application id is the base64 first segment of a bot token', () => {
  const id = '1122334455667788990';
  const token = `${Buffer.from(id).toString('base64url')}.GhIjKl.${'x'.repeat(38)}`;
  assert.equal(applicationIdFromToken(token), id);
  assert.equal(applicationIdFromToken(`${Buffer.from(id).toString('base64')}.a.b`), id);
  assert.equal(applicationIdFromToken('test-bot-token'), null);
  assert.equal(applicationIdFromToken(''), null);
});
