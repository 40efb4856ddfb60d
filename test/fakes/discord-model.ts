/**
 * Discord rules the fake Discord applies, as pure functions: permission bits and overwrites, who a
 * message notifies (allowed_mentions), message components, and application command validation.
 */

type JsonObject = Record<string, any>;

/** A rejected form field, turned into a 400 Invalid Form Body (50035) by the fake. */
export interface FormProblem {
  field: string;
  code: string;
  message: string;
}

// ---------------------------------------------------------------------------------------------
// Permissions

/** Permission bits by their discord.js names (PermissionFlagsBits). */
export const PERMISSIONS = {
  CreateInstantInvite: 1n << 0n,
  KickMembers: 1n << 1n,
  BanMembers: 1n << 2n,
  Administrator: 1n << 3n,
  ManageChannels: 1n << 4n,
  ManageGuild: 1n << 5n,
  AddReactions: 1n << 6n,
  ViewAuditLog: 1n << 7n,
  PrioritySpeaker: 1n << 8n,
  Stream: 1n << 9n,
  ViewChannel: 1n << 10n,
  SendMessages: 1n << 11n,
  SendTTSMessages: 1n << 12n,
  ManageMessages: 1n << 13n,
  EmbedLinks: 1n << 14n,
  AttachFiles: 1n << 15n,
  ReadMessageHistory: 1n << 16n,
  MentionEveryone: 1n << 17n,
  UseExternalEmojis: 1n << 18n,
  ViewGuildInsights: 1n << 19n,
  Connect: 1n << 20n,
  Speak: 1n << 21n,
  MuteMembers: 1n << 22n,
  DeafenMembers: 1n << 23n,
  MoveMembers: 1n << 24n,
  UseVAD: 1n << 25n,
  ChangeNickname: 1n << 26n,
  ManageNicknames: 1n << 27n,
  ManageRoles: 1n << 28n,
  ManageWebhooks: 1n << 29n,
  ManageGuildExpressions: 1n << 30n,
  UseApplicationCommands: 1n << 31n,
  RequestToSpeak: 1n << 32n,
  ManageEvents: 1n << 33n,
  ManageThreads: 1n << 34n,
  CreatePublicThreads: 1n << 35n,
  CreatePrivateThreads: 1n << 36n,
  UseExternalStickers: 1n << 37n,
  SendMessagesInThreads: 1n << 38n,
  UseEmbeddedActivities: 1n << 39n,
  ModerateMembers: 1n << 40n,
  ViewCreatorMonetizationAnalytics: 1n << 41n,
  UseSoundboard: 1n << 42n,
  CreateGuildExpressions: 1n << 43n,
  CreateEvents: 1n << 44n,
  UseExternalSounds: 1n << 45n,
  SendVoiceMessages: 1n << 46n,
  SendPolls: 1n << 49n,
  UseExternalApps: 1n << 50n,
  PinMessages: 1n << 51n,
  BypassSlowmode: 1n << 52n,
} as const;

export type PermissionName = keyof typeof PERMISSIONS;
/** A permission set: a bitfield (bigint, or a decimal string as the API sends it) or a list of names. */
export type PermissionsInput = bigint | string | number | readonly PermissionName[];

export const ALL_PERMISSIONS = Object.values(PERMISSIONS).reduce((a, b) => a | b, 0n);

export function toBits(p: PermissionsInput | undefined | null): bigint {
  if (p === undefined || p === null) return 0n;
  if (typeof p === 'bigint') return p;
  if (typeof p === 'number') return BigInt(p);
  if (typeof p === 'string') return BigInt(p);
  let bits = 0n;
  for (const name of p) {
    const bit = PERMISSIONS[name];
    if (bit === undefined) throw new Error(`fake discord: unknown permission ${String(name)}`);
    bits |= bit;
  }
  return bits;
}

export interface PermissionOverwrite {
  id: string;
  /** 0 = role, 1 = member. */
  type: 0 | 1;
  allow: string;
  deny: string;
}

/**
 * A member's permissions in a channel, as Discord computes them: @everyone and role permissions;
 * owner and Administrator get everything; then the channel's @everyone, role and member overwrites.
 */
export function computePermissions(o: {
  guildId: string;
  ownerId: string;
  userId: string;
  memberRoleIds: readonly string[];
  rolePermissions: (roleId: string) => bigint | undefined;
  overwrites?: readonly PermissionOverwrite[];
}): bigint {
  if (o.userId === o.ownerId) return ALL_PERMISSIONS;
  let perms = o.rolePermissions(o.guildId) ?? 0n;
  for (const r of o.memberRoleIds) perms |= o.rolePermissions(r) ?? 0n;
  if (perms & PERMISSIONS.Administrator) return ALL_PERMISSIONS;
  const ows = o.overwrites ?? [];
  const everyone = ows.find((x) => x.type === 0 && x.id === o.guildId);
  if (everyone) perms = (perms & ~BigInt(everyone.deny)) | BigInt(everyone.allow);
  let allow = 0n;
  let deny = 0n;
  for (const x of ows) {
    if (x.type === 0 && x.id !== o.guildId && o.memberRoleIds.includes(x.id)) {
      allow |= BigInt(x.allow);
      deny |= BigInt(x.deny);
    }
  }
  perms = (perms & ~deny) | allow;
  const member = ows.find((x) => x.type === 1 && x.id === o.userId);
  if (member) perms = (perms & ~BigInt(member.deny)) | BigInt(member.allow);
  return perms;
}

// ---------------------------------------------------------------------------------------------
// Mentions

/** Text Discord scans for mentions: the content and the text displays of components. */
export function mentionText(content: string, components: unknown): string {
  const parts = [content];
  const walk = (c: unknown): void => {
    if (Array.isArray(c)) return c.forEach(walk);
    if (!c || typeof c !== 'object') return;
    const o = c as JsonObject;
    if (o.type === 10 && typeof o.content === 'string') parts.push(o.content);
    walk(o.components);
    walk(o.accessory);
  };
  walk(components);
  return parts.join('\n');
}

export function parseMentions(text: string): { users: string[]; roles: string[]; everyone: boolean } {
  const users = new Set<string>();
  const roles = new Set<string>();
  for (const m of text.matchAll(/<@(!?|&)(\d{16,21})>/g)) (m[1] === '&' ? roles : users).add(m[2]!);
  return { users: [...users], roles: [...roles], everyone: /@(everyone|here)\b/.test(text) };
}

/** Who Discord notifies for a message: users, roles, @everyone/@here, and the replied-to author. */
export interface Pings {
  users: string[];
  roles: string[];
  everyone: boolean;
  /** The replied-to author when the reply pings them (also listed in `users`), else null. */
  repliedUser: string | null;
}

/** Problems Discord rejects in `allowed_mentions` (400 Invalid Form Body), or null. */
export function allowedMentionsProblem(am: unknown): FormProblem | null {
  if (am === undefined || am === null) return null;
  if (typeof am !== 'object' || Array.isArray(am)) {
    return { field: 'allowed_mentions', code: 'DICT_TYPE_CONVERT', message: 'Only dictionaries may be used in a DictType' };
  }
  const a = am as JsonObject;
  const parse: unknown[] = Array.isArray(a.parse) ? a.parse : [];
  for (const p of parse) {
    if (p !== 'users' && p !== 'roles' && p !== 'everyone') {
      return {
        field: 'allowed_mentions.parse',
        code: 'BASE_TYPE_CHOICES',
        message: `Value must be one of {'users', 'roles', 'everyone'}.`,
      };
    }
  }
  for (const kind of ['users', 'roles'] as const) {
    const list = a[kind];
    if (Array.isArray(list) && list.length > 100) {
      return { field: `allowed_mentions.${kind}`, code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 100 or fewer in length.' };
    }
    if (parse.includes(kind) && Array.isArray(list) && list.length > 0) {
      return {
        field: 'allowed_mentions',
        code: 'MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE',
        message: `parse:["${kind}"] and ${kind}: [ids...] are mutually exclusive.`,
      };
    }
  }
  return null;
}

/**
 * Discord's allowed_mentions rules: without the field, regular messages parse users, roles and
 * everyone (interactions and webhooks only users) and a reply pings its author; with it, only what
 * `parse` or the explicit `users`/`roles` lists allow, and the replied-to author only with
 * `replied_user: true`. A mention must be in the text; roles notify only if mentionable or the
 * author has Mention Everyone, which @everyone/@here always need. The author never pings themselves.
 */
export function computePings(o: {
  text: string;
  allowedMentions: unknown;
  defaultParse: readonly string[];
  authorId: string;
  repliedAuthorId?: string | null;
  userExists: (id: string) => boolean;
  role: (id: string) => { mentionable: boolean } | undefined;
  authorCanMentionEveryone: boolean;
}): Pings {
  const found = parseMentions(o.text);
  const am = o.allowedMentions && typeof o.allowedMentions === 'object' ? (o.allowedMentions as JsonObject) : undefined;
  const parse: unknown[] = am ? (Array.isArray(am.parse) ? am.parse : []) : [...o.defaultParse];
  const userList: string[] | null = am && Array.isArray(am.users) ? am.users.map(String) : null;
  const roleList: string[] | null = am && Array.isArray(am.roles) ? am.roles.map(String) : null;
  const repliedAllowed = am ? am.replied_user === true : true;
  const users = found.users.filter(
    (id) => id !== o.authorId && o.userExists(id) && (parse.includes('users') || (userList?.includes(id) ?? false)),
  );
  const roles = found.roles.filter((id) => {
    const r = o.role(id);
    if (!r || !(parse.includes('roles') || (roleList?.includes(id) ?? false))) return false;
    return r.mentionable || o.authorCanMentionEveryone;
  });
  const everyone = found.everyone && parse.includes('everyone') && o.authorCanMentionEveryone;
  let repliedUser: string | null = null;
  if (o.repliedAuthorId && repliedAllowed && o.repliedAuthorId !== o.authorId) {
    repliedUser = o.repliedAuthorId;
    if (!users.includes(repliedUser)) users.push(repliedUser);
  }
  return { users, roles, everyone, repliedUser };
}

// ---------------------------------------------------------------------------------------------
// Components

/** A button as a test sees it on a message. */
export interface FakeButton {
  customId: string | null;
  label: string | null;
  /** `{ name }` for a unicode emoji, `{ id, name, animated }` for a custom one. */
  emoji: { id?: string | null; name?: string | null; animated?: boolean } | null;
  /** 1 primary, 2 secondary, 3 success, 4 danger, 5 link, 6 premium. */
  style: number;
  disabled: boolean;
  url: string | null;
  /** Index of the top-level component (action row) holding it. */
  row: number;
}

export function buttonsOf(components: unknown): FakeButton[] {
  const out: FakeButton[] = [];
  const walk = (c: unknown, row: number): void => {
    if (Array.isArray(c)) return c.forEach((x) => walk(x, row));
    if (!c || typeof c !== 'object') return;
    const o = c as JsonObject;
    if (o.type === 2) {
      out.push({
        customId: typeof o.custom_id === 'string' ? o.custom_id : null,
        label: typeof o.label === 'string' ? o.label : null,
        emoji: o.emoji && typeof o.emoji === 'object' ? (o.emoji as FakeButton['emoji']) : null,
        style: Number(o.style),
        disabled: o.disabled === true,
        url: typeof o.url === 'string' ? o.url : null,
        row,
      });
      return;
    }
    walk(o.components, row);
    walk(o.accessory, row);
  };
  if (Array.isArray(components)) components.forEach((c, i) => walk(c, i));
  return out;
}

const BUTTON_STYLES = new Set([1, 2, 3, 4, 5, 6]);
const SELECT_TYPES = new Set([3, 5, 6, 7, 8]);

/**
 * Discord's checks on message components (classic action rows; components v2 messages are only
 * checked for custom_id): at most 5 rows, each with 1–5 buttons or one select; a button has a
 * label or an emoji (label ≤ 80), a custom_id of 1–100 characters unless it is a link (url, no
 * custom_id); custom_ids are unique within the message.
 */
export function componentsProblem(components: unknown, flags = 0): FormProblem | null {
  if (components === undefined || components === null) return null;
  if (!Array.isArray(components)) return { field: 'components', code: 'BASE_TYPE_ARRAY', message: 'Must be an array.' };
  const v2 = (flags & (1 << 15)) !== 0;
  if (!v2 && components.length > 5) return { field: 'components', code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 5 or fewer in length.' };
  const ids = new Set<string>();
  const checkId = (c: JsonObject, path: string): FormProblem | null => {
    if (typeof c.custom_id !== 'string' || c.custom_id.length < 1 || c.custom_id.length > 100) {
      return { field: `${path}.custom_id`, code: 'BASE_TYPE_BAD_LENGTH', message: 'Must be between 1 and 100 in length.' };
    }
    if (ids.has(c.custom_id))
      return { field: `${path}.custom_id`, code: 'COMPONENT_CUSTOM_ID_DUPLICATED', message: 'Component custom id cannot be duplicated' };
    ids.add(c.custom_id);
    return null;
  };
  const checkButton = (b: JsonObject, path: string): FormProblem | null => {
    if (!BUTTON_STYLES.has(Number(b.style)))
      return { field: `${path}.style`, code: 'BASE_TYPE_CHOICES', message: 'Value must be one of (1, 2, 3, 4, 5, 6).' };
    if (b.label !== undefined && (typeof b.label !== 'string' || b.label.length > 80)) {
      return { field: `${path}.label`, code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 80 or fewer in length.' };
    }
    if (Number(b.style) !== 6 && !b.label && !b.emoji)
      return { field: `${path}`, code: 'BUTTON_COMPONENT_INVALID', message: 'A button must have a label or an emoji' };
    if (Number(b.style) === 5) {
      if (typeof b.url !== 'string' || !b.url)
        return { field: `${path}.url`, code: 'BASE_TYPE_REQUIRED', message: 'This field is required' };
      if (b.custom_id !== undefined)
        return { field: `${path}.custom_id`, code: 'BUTTON_COMPONENT_URL_AND_CUSTOM_ID', message: 'A link button cannot have a custom id' };
      return null;
    }
    if (Number(b.style) === 6) return null;
    return checkId(b, path);
  };
  const walkV2 = (c: unknown, path: string): FormProblem | null => {
    if (Array.isArray(c)) {
      for (let i = 0; i < c.length; i++) {
        const p = walkV2(c[i], `${path}.${i}`);
        if (p) return p;
      }
      return null;
    }
    if (!c || typeof c !== 'object') return null;
    const o = c as JsonObject;
    if (o.type === 2) return checkButton(o, path);
    if (SELECT_TYPES.has(o.type)) return checkId(o, path);
    return walkV2(o.components, `${path}.components`) ?? walkV2(o.accessory, `${path}.accessory`);
  };
  if (v2) return walkV2(components, 'components');
  for (let r = 0; r < components.length; r++) {
    const row = components[r] as JsonObject;
    const path = `components.${r}`;
    if (!row || row.type !== 1)
      return { field: `${path}.type`, code: 'UNION_TYPE_CHOICES', message: 'Value of field "type" must be one of (1,).' };
    const kids: unknown = row.components;
    if (!Array.isArray(kids) || kids.length < 1 || kids.length > 5) {
      return { field: `${path}.components`, code: 'BASE_TYPE_BAD_LENGTH', message: 'Must be between 1 and 5 in length.' };
    }
    const selects = kids.filter((k: JsonObject) => SELECT_TYPES.has(k?.type)).length;
    if (selects > 0 && kids.length > 1) {
      return {
        field: `${path}.components`,
        code: 'COMPONENT_LAYOUT_WIDTH_EXCEEDED',
        message: 'The specified component exceeds the maximum width',
      };
    }
    for (let i = 0; i < kids.length; i++) {
      const k = kids[i] as JsonObject;
      const p =
        k?.type === 2
          ? checkButton(k, `${path}.components.${i}`)
          : SELECT_TYPES.has(k?.type)
            ? checkId(k, `${path}.components.${i}`)
            : null;
      if (p) return p;
      if (k?.type !== 2 && !SELECT_TYPES.has(k?.type)) {
        return {
          field: `${path}.components.${i}.type`,
          code: 'UNION_TYPE_CHOICES',
          message: 'Value of field "type" must be one of (2, 3, 5, 6, 7, 8).',
        };
      }
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Application commands

const CHAT_INPUT_NAME = /^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u;

function nameProblem(name: unknown, field: string, chatInput: boolean): FormProblem | null {
  if (typeof name !== 'string' || name.length < 1 || name.length > 32) {
    return { field, code: 'BASE_TYPE_BAD_LENGTH', message: 'Must be between 1 and 32 in length.' };
  }
  if (chatInput && (!CHAT_INPUT_NAME.test(name) || name !== name.toLowerCase())) {
    return { field, code: 'APPLICATION_COMMAND_INVALID_NAME', message: 'Command name is invalid' };
  }
  return null;
}

function descriptionProblem(d: unknown, field: string): FormProblem | null {
  if (typeof d !== 'string' || d.length < 1 || d.length > 100) {
    return { field, code: 'BASE_TYPE_BAD_LENGTH', message: 'Must be between 1 and 100 in length.' };
  }
  return null;
}

function optionsProblem(options: unknown, path: string, depth: number): FormProblem | null {
  if (options === undefined || options === null) return null;
  if (!Array.isArray(options)) return { field: path, code: 'BASE_TYPE_ARRAY', message: 'Must be an array.' };
  if (options.length > 25) return { field: path, code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 25 or fewer in length.' };
  const names = new Set<string>();
  let sawOptional = false;
  for (let i = 0; i < options.length; i++) {
    const o = options[i] as JsonObject;
    const p = `${path}.${i}`;
    const type = Number(o?.type);
    if (!(type >= 1 && type <= 11))
      return { field: `${p}.type`, code: 'BASE_TYPE_CHOICES', message: 'Value must be one of (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11).' };
    const np = nameProblem(o.name, `${p}.name`, true) ?? descriptionProblem(o.description, `${p}.description`);
    if (np) return np;
    if (names.has(o.name))
      return { field: `${p}.name`, code: 'APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS', message: 'Option names must be unique' };
    names.add(o.name);
    if (type === 1 || type === 2) {
      if (depth >= 2 || (type === 2 && depth >= 1))
        return {
          field: `${p}.type`,
          code: 'APPLICATION_COMMAND_OPTIONS_TYPE_INVALID',
          message: 'Sub-command and sub-command group option types are mutually exclusive to all other types',
        };
      const inner = optionsProblem(o.options, `${p}.options`, depth + 1);
      if (inner) return inner;
      continue;
    }
    if (o.required === true) {
      if (sawOptional)
        return {
          field: `${p}.required`,
          code: 'APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID',
          message: 'Required options must be placed before non-required options',
        };
    } else sawOptional = true;
    if (Array.isArray(o.choices) && o.choices.length > 25)
      return { field: `${p}.choices`, code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 25 or fewer in length.' };
  }
  return null;
}

/** Problems Discord rejects in an application command body (`path`: its index in a bulk list), or null. */
export function commandProblem(cmd: unknown, path = ''): FormProblem | null {
  const f = (k: string) => (path ? `${path}.${k}` : k);
  if (!cmd || typeof cmd !== 'object' || Array.isArray(cmd))
    return { field: path || 'body', code: 'DICT_TYPE_CONVERT', message: 'Only dictionaries may be used in a DictType' };
  const c = cmd as JsonObject;
  const type = c.type === undefined ? 1 : Number(c.type);
  if (![1, 2, 3, 4].includes(type)) return { field: f('type'), code: 'BASE_TYPE_CHOICES', message: 'Value must be one of (1, 2, 3, 4).' };
  const np = nameProblem(c.name, f('name'), type === 1);
  if (np) return np;
  if (type === 1) {
    const dp = descriptionProblem(c.description, f('description'));
    if (dp) return dp;
    const op = optionsProblem(c.options, f('options'), 0);
    if (op) return op;
  } else if (c.options !== undefined && c.options !== null && (!Array.isArray(c.options) || c.options.length > 0)) {
    return { field: f('options'), code: 'APPLICATION_COMMAND_OPTIONS_INVALID', message: 'Only chat input commands can have options' };
  }
  const dmp = c.default_member_permissions;
  if (dmp !== undefined && dmp !== null && !/^\d+$/.test(String(dmp))) {
    return { field: f('default_member_permissions'), code: 'NUMBER_TYPE_COERCE', message: `Value "${String(dmp)}" is not snowflake.` };
  }
  return null;
}

/** Command JSON as Discord stores and returns it. */
export function storedCommand(body: JsonObject, o: { id: string; applicationId: string; version: string; guildId?: string }): JsonObject {
  const type = body.type === undefined ? 1 : Number(body.type);
  const dmp = body.default_member_permissions;
  const cmd: JsonObject = {
    id: o.id,
    application_id: o.applicationId,
    version: o.version,
    default_member_permissions: dmp === undefined || dmp === null ? null : String(dmp),
    type,
    name: body.name,
    name_localizations: body.name_localizations ?? null,
    description: type === 1 ? body.description : '',
    description_localizations: body.description_localizations ?? null,
    nsfw: body.nsfw === true,
  };
  if (o.guildId) cmd.guild_id = o.guildId;
  else {
    cmd.dm_permission = body.dm_permission ?? true;
    cmd.contexts = body.contexts ?? null;
    cmd.integration_types = body.integration_types ?? [0];
  }
  if (type === 1 && Array.isArray(body.options) && body.options.length > 0) cmd.options = body.options;
  return cmd;
}

/** Whether two command bodies differ in what Discord stores (a change bumps `version`). */
export function commandChanged(a: JsonObject, b: JsonObject): boolean {
  const strip = ({ id: _i, version: _v, application_id: _a, ...rest }: JsonObject) => rest;
  return JSON.stringify(strip(a)) !== JSON.stringify(strip(b));
}

/** Looks up what a command option refers to, for `resolved` in an interaction. */
export interface OptionResolvers {
  user(id: string): JsonObject | undefined;
  /** Partial member (no user, deaf, mute), with `permissions`. */
  member(id: string): JsonObject | undefined;
  /** Partial channel. */
  channel(id: string): JsonObject | undefined;
  role(id: string): JsonObject | undefined;
}

/**
 * The `options` and `resolved` of an application command interaction, built from a command's
 * registered option definitions and `{ name: value }` as the user typed them; throws, as Discord's
 * client would refuse to send it, on an unknown or missing required option or a value of the wrong
 * type, outside the choices or limits.
 */
export function interactionOptions(
  defs: JsonObject[] | undefined,
  given: Record<string, unknown>,
  r: OptionResolvers,
  where: string,
): { options: JsonObject[]; resolved: JsonObject } {
  const resolved: JsonObject = {};
  const put = (kind: string, id: string, v: JsonObject) => {
    resolved[kind] ??= {};
    resolved[kind][id] = v;
  };
  const list = defs ?? [];
  for (const name of Object.keys(given)) {
    if (!list.some((d) => d.name === name)) throw new Error(`fake discord: ${where} has no option "${name}"`);
  }
  const options: JsonObject[] = [];
  for (const d of list) {
    const v = given[d.name];
    if (v === undefined) {
      if (d.required) throw new Error(`fake discord: ${where} needs option "${d.name}"`);
      continue;
    }
    const bad = (why: string) => new Error(`fake discord: ${where} option "${d.name}": ${why}`);
    const type = Number(d.type);
    switch (type) {
      case 3:
        if (typeof v !== 'string') throw bad('expects a string');
        if (d.min_length !== undefined && v.length < d.min_length) throw bad(`shorter than ${d.min_length}`);
        if (v.length > (d.max_length ?? 6000)) throw bad(`longer than ${d.max_length ?? 6000}`);
        break;
      case 4:
      case 10:
        if (typeof v !== 'number' || !Number.isFinite(v) || (type === 4 && !Number.isInteger(v)))
          throw bad(type === 4 ? 'expects an integer' : 'expects a number');
        if (d.min_value !== undefined && v < d.min_value) throw bad(`below ${d.min_value}`);
        if (d.max_value !== undefined && v > d.max_value) throw bad(`above ${d.max_value}`);
        break;
      case 5:
        if (typeof v !== 'boolean') throw bad('expects a boolean');
        break;
      case 6:
      case 7:
      case 8:
      case 9: {
        if (typeof v !== 'string') throw bad('expects an id');
        const user = type === 6 || type === 9 ? r.user(v) : undefined;
        const role = type === 8 || type === 9 ? r.role(v) : undefined;
        const channel = type === 7 ? r.channel(v) : undefined;
        if (user) {
          put('users', v, user);
          const m = r.member(v);
          if (m) put('members', v, m);
        } else if (role) put('roles', v, role);
        else if (channel) {
          if (Array.isArray(d.channel_types) && d.channel_types.length > 0 && !d.channel_types.includes(channel.type))
            throw bad(`channel type ${channel.type} not allowed`);
          put('channels', v, channel);
        } else throw bad(`unknown id ${v}`);
        break;
      }
      default:
        throw bad(`option type ${type} is not supported by the fake`);
    }
    if (Array.isArray(d.choices) && d.choices.length > 0 && !d.choices.some((c: JsonObject) => c.value === v))
      throw bad('not one of the choices');
    options.push({ type, name: d.name, value: v });
  }
  return { options, resolved };
}
