// Consent revocation in the person's own words (47 CFR 64.1200(a)(10): "any reasonable means").
// Whole-message keywords (STOP, "stop texting me") are read first by keywords.ts; this reads the
// rest: "STOP. I didn't sign up for this", "please stop sending me these messages", "quit texting
// me", "I revoke consent", "ya no me manden mensajes". A stop word about something else ("he won't
// stop checking my phone", "can't stop thinking about week 3") is not an opt-out, and the safety
// screen still reads it. Pure: the same text always gives the same answer.
//
// Three answers: `optout` (act on it), `unclear` (ask once: "Reply STOP to stop all messages",
// and put the reply in the operator queue), or null (not about stopping the messages at all).
import { foldText } from './normalize.ts';

export type Revocation = 'optout' | 'unclear';

export interface RevocationReading {
  revocation: Revocation | null;
  /** The rule that decided, for `matched` ("optout:verb-object"); never the person's words. */
  rule: string | null;
}

// Respellings that matter here; the safety normaliser's table is about other words.
const SHORT: Readonly<Record<string, string>> = {
  u: 'you',
  yall: 'you all',
  stahp: 'stop',
  stpo: 'stop',
  sotp: 'stop',
  stoop: 'stop',
  remve: 'remove',
  remov: 'remove',
  rmv: 'remove',
  ur: 'your',
  yr: 'your',
  pls: 'please',
  plz: 'please',
  plse: 'please',
  pleas: 'please',
  plez: 'please',
  msg: 'message',
  msgs: 'messages',
  mesages: 'messages',
  mesage: 'message',
  messeges: 'messages',
  txt: 'text',
  txts: 'texts',
  txting: 'texting',
  txtin: 'texting',
  textin: 'texting',
  textn: 'texting',
  sendin: 'sending',
  msging: 'messaging',
  messagin: 'messaging',
  emailin: 'emailing',
  e: 'e',
  im: 'i am',
  ima: 'i am going to',
  wanna: 'want to',
  wana: 'want to',
  gotta: 'got to',
  dont: 'do not',
  doesnt: 'does not',
  didnt: 'did not',
  wont: 'will not',
  cant: 'can not',
  cannot: 'can not',
  couldnt: 'could not',
  wouldnt: 'would not',
  shouldnt: 'should not',
  isnt: 'is not',
  arent: 'are not',
  id: 'i would',
  ive: 'i have',
  ill: 'i will',
  unsub: 'unsubscribe',
  unsuscribe: 'unsubscribe',
  unsubcribe: 'unsubscribe',
  unsubscibe: 'unsubscribe',
  unsubscrib: 'unsubscribe',
  unsubscribing: 'unsubscribe',
  optout: 'opt out',
  stopall: 'stop all',
  anymore: 'any more',
  nomore: 'no more',
  // Spanish
  xfa: 'por favor',
  porfa: 'por favor',
  porfavor: 'por favor',
  msj: 'mensajes',
  msjs: 'mensajes',
  mjs: 'mensajes',
  mensaje: 'mensajes',
  q: 'que',
  k: 'que',
  ke: 'que',
  kiero: 'quiero',
  ns: 'nos',
};

/** Folded, apostrophes dropped, shorthand expanded, letter runs cut ("stooop" -> "stop"). */
function words(text: string): string {
  return foldText(text)
    .replace(/\b(can|won|ain)'t\b/g, (_m, w: string) =>
      w === 'won' ? 'will not' : w === 'can' ? 'can not' : 'is not',
    )
    .replace(/n't\b/g, ' not')
    .replace(/'ll\b/g, ' will')
    .replace(/'re\b/g, ' are')
    .replace(/'ve\b/g, ' have')
    .replace(/'d\b/g, ' would')
    .replace(/\b(he|she|it|that|there|who|what)'s\b/g, '$1 is')
    .replace(/'/g, '')
    .replace(/([a-z])\1{2,}/g, '$1')
    .replace(/opt-out|opt-in/g, (m) => m.replace('-', ' '))
    .replace(/e-mail/g, 'email')
    .split(/[^a-z0-9ñ]+/)
    .filter((w) => w !== '')
    .map((w) => SHORT[w] ?? w)
    .join(' ');
}

/** Sentences and clauses: a reply often says several things ("3. stop texting me though"). */
function clauses(text: string): string[] {
  return text
    .split(/[.!?;:\n\u2026()]+|,\s*(?:but|pero|and|y)\s+|\s+(?:but|pero)\s+|,/i)
    .map(words)
    .filter((c) => c !== '');
}

// --- English -----------------------------------------------------------------------------------
const STOP_VERB = '(?:stop|quit|cease|end|cancel|discontinue|halt)';
const MSG_ING =
  '(?:texting|messaging|emailing|sending|contacting|writing|spamming|bothering|calling|hitting (?:me up|my phone|my line|me)|blowing up my phone|blowing me up|pinging me|communicating)';
const MSG_VERB = '(?:text|message|email|contact|write|send|spam|bother|call|hit me up|hmu)';
const MSG_NOUN =
  '(?:texts?|messages?|emails?|mails?|sms|notifications?|reminders?|alerts?|nudges?|tips|check ?ins?|spam|program|programme|course|subscriptions?|service|mailing list|list|newsletters?|communications?|contact|correspondence|these|this number|all this)';
const DETERMINER =
  '(?:(?:the|these|those|this|your|all|further|future|all further|all future|all the|all these|all of these|all of the|all of your|any|any more|my|of|of the|of these|of your|getting|receiving|sending me|sending)\\s+)*';
// Who is doing the stopping: the nearest subject before the verb decides ("I would appreciate
// it if you would stop sending" is "you"; "he won't stop texting me" is "he").
const THIRD_PARTY = new Set(
  (
    'he she they hes shes theyre him her his partner husband wife boyfriend girlfriend bf gf ex ' +
    'fiance fiancee mom mum dad mother father family boss kid kids son daughter someone somebody ' +
    'everyone people brother sister friend friends coworker man guy'
  ).split(' '),
);
const FIRST_OR_SECOND = new Set(['i', 'you', 'please', 'we']);
const PERSON_OBJECT =
  /^(?:him|her|them|my (?!number|phone|cell|email|inbox|line)\w+|his|other \w+|others|people|everyone|anyone|anybody|someone|somebody|each other|back|friends|guys|girls|men|women)\b/;
const NEGATED =
  /\b(?:do not|never|can not|could not|will not|would not|did not|not|no)\s+(?:ever\s+|just\s+|even\s+)?$/;
const FILLER =
  '(?:please|now|right now|already|just|immediately|asap|ok|okay|omg|dude|seriously|thanks|thank you|thx|ty|for real|for good|all|everything|this|these|them|asking|again|forever|permanently|ffs|wtf|god|lol|sorry|oh|man|pleasee|yes|hey|hi|hello|steady)';

interface Rule {
  name: string;
  re: RegExp;
  answer: Revocation | 'keep';
  /** Check the words before the match for a third-party subject or a negation. */
  subjectCheck?: boolean;
}

const EN: Rule[] = [
  // "don't stop sending these", "please don't unsubscribe me": the opposite of an opt-out.
  {
    name: 'keep',
    re: new RegExp(
      `\\b(?:do not|dont|never|please do not)\\s+(?:ever\\s+)?(?:${STOP_VERB}|unsubscribe|opt me out|remove me)\\b`,
    ),
    answer: 'keep',
  },
  {
    name: 'keep-wanted',
    re: /\b(?:(?:do not|never) want (?:these|them|the \w+|this|it|you) to (?:stop|end)|(?:want|wanted|like|would like|need) to (?:stay|keep|remain) (?:on|subscribed|signed up|getting|receiving|in)|keep (?:them|these|it|the \w+) coming|(?<!why do you |you )keep (?:sending|texting|messaging|emailing)|i (?:stay|remain) (?:on|subscribed)|stay on (?:this|the|your))\b/,
    answer: 'keep',
  },
  {
    // About us having stopped, or an opt-out the person did not want.
    name: 'keep-wrong-direction',
    re: /\b(?:(?:did|have|has|why did|why have|when did) you (?:stop|stopped|quit|end|ended|cancel)|you (?:stopped|quit|ended|cancelled|canceled) (?:texting|sending|messaging|emailing|the)|thought you (?:would|will|were going to) stop|(?:did not|never) (?:mean|want|meant) to (?:unsubscribe|stop|opt out|cancel|quit)|by (?:mistake|accident)\b.*\b(?:unsubscribe|stop|opt))/,
    answer: 'keep',
  },
  {
    name: 'stop-asking',
    re: /^(?:please |just |can you |could you )?stop asking(?: me)?(?: (?:that|this|these|every week|how i am|questions))*$/,
    answer: 'unclear',
  },
  {
    // Stop only at some times or about some things: TIME or PAUSE may be what they want.
    name: 'partial',
    re: new RegExp(
      `(?:^|\\b(?:please|can you|could you|would you|will you|you|just|and|but)\\s+)(?:${STOP_VERB}|do not|never|please do not)\\s+(?:(?:texting|sending|messaging|emailing|text|send|message|email)\\s+)?(?:me\\s+)?(?:(?:texts|messages|these|them|the \\w+)\\s+)?(?:after|before|at night|in the (?:morning|evening|afternoon)|during|while|on (?:weekends|weekdays|sundays|saturdays)|for (?:now|a (?:week|while|bit|few days)|\\d+ (?:days|weeks))|until|till|about|so early|so late|at work|when)\\b`,
    ),
    answer: 'unclear',
  },
  {
    name: 'unsubscribed-before',
    re: /\bi (?:already |just )?(?:unsubscribed|opted out|said stop|texted stop|replied stop)\b(?! (?:of|from) (?!(?:these|this|your|the (?:texts|messages|emails|program|list)|it|them|steady)\b))/,
    answer: 'unclear',
  },
  {
    name: 'relayed',
    re: /\b(?:told|tells|asked|asks|wants|want|made|makes|making|forcing|forced|said|says) me (?:to )?(?:(?:tell|ask|text|say to|message) you (?:to )?(?:stop|quit|cancel|end|unsubscribe)|(?:unsubscribe(?! from (?!this|these|the texts|steady))|opt out|cancel (?:this|these|the (?:texts|messages|emails|program)|my subscription)|stop (?:these|this|the (?:texts|messages|emails|program))))|\b(?:wants|want|needs) me (?:off|out of|to get off|to get out of) (?:this|these|the program|here)\b/,
    answer: 'unclear',
  },
  {
    name: 'should-i-quit',
    re: new RegExp(
      `\\b(?:should i|do i have to|does (?:that|this) mean i should|is it ok (?:if i|to)|is it okay (?:if i|to)|would it be ok (?:if i|to))\\s+(?:just\\s+)?${STOP_VERB}\\b`,
    ),
    answer: 'unclear',
  },
  {
    name: 'get-off-list',
    re: /\b(?:get|be|take me|taken) (?:off|out of) (?:this|the|your) (?:list|mailing list|program|texts|messages|emails)\b/,
    answer: 'optout',
  },
  {
    name: 'unsubscribe',
    re: /\b(?:unsubscribe|opt (?:me )?out|opting out|remove me from|take me off|delete me from)\b(?! (?:of|from) (?!(?:these|this|your|the (?:texts|messages|emails|program|list|mailing list)|it|them|steady)\b))/,
    answer: 'optout',
    subjectCheck: true,
  },
  {
    name: 'revoke',
    re: /\b(?:(?:revoke|revoking|withdraw|withdrawing|rescind|take back|taking back|pull|cancel)\s+(?:my\s+|all\s+|any\s+)*(?:consent|permission|authori[sz]ation|agreement)|\bi (?:hereby )?revoke$|i do not consent|no longer consent|do not have my consent|consent (?:is )?(?:revoked|withdrawn))\b/,
    answer: 'optout',
  },
  {
    name: 'verb-ing',
    re: new RegExp(
      `\\b${STOP_VERB}\\s+(?:all\\s+)?(?:the\\s+)?${MSG_ING}\\b(?!\\s+(?:him|her|them|my (?!number|phone|email))\\b)`,
    ),
    answer: 'optout',
    subjectCheck: true,
  },
  {
    name: 'verb-object',
    re: new RegExp(`\\b${STOP_VERB}\\s+${DETERMINER}${MSG_NOUN}\\b`),
    answer: 'optout',
    subjectCheck: true,
  },
  {
    name: 'never-message',
    re: new RegExp(
      `\\b(?:do not|never|no more|stop|quit|please do not|not)\\s+(?:ever\\s+|you\\s+)?(?:${MSG_VERB})\\s+(?:me|us|to me|this number|my number|my phone|my email|anything|any more|again|ever|here)\\b`,
    ),
    answer: 'optout',
    subjectCheck: true,
  },
  {
    name: 'send-no-more',
    re: new RegExp(
      `\\b(?:do not|never|please do not)\\s+(?:ever\\s+)?(?:send|text|email|message)\\s+(?:me\\s+|us\\s+)?(?:any\\s+)?(?:further|more|other|future|additional)\\s+${MSG_NOUN}\\b`,
    ),
    answer: 'optout',
    subjectCheck: true,
  },
  {
    name: 'no-more',
    re: new RegExp(
      `\\b(?:no more|not any more|none of (?:these|your|the))\\s+(?:of\\s+)?(?:these\\s+|your\\s+|the\\s+)?${MSG_NOUN}\\b`,
    ),
    answer: 'optout',
  },
  {
    name: 'do-not-want',
    re: new RegExp(
      `\\b(?:do not|no longer|never|not)\\s+(?:want|wish|need|care|like)\\s+(?:to\\s+)?(?:(?:get|receive|be getting|be receiving|getting|receiving|be sent|have|see|be on)\\s+)?(?:any\\s+|these\\s+|this\\s+|your\\s+|the\\s+|more\\s+|any more\\s+|them\\s+)*(?:${MSG_NOUN}|them|any more|more)\\b|\\b(?:do not|no longer) (?:want|wish) to (?:get|receive) (?:this|these|them)\\b`,
    ),
    answer: 'optout',
    subjectCheck: true,
  },
  {
    name: 'want-them-stopped',
    re: new RegExp(
      `\\b(?:want|need|would like)\\s+(?:these|the|your|all|this|all these|all the)\\s+${MSG_NOUN}\\s+to\\s+${STOP_VERB}\\b|\\b(?:these|the|your)\\s+${MSG_NOUN}\\s+(?:need to|have to|must|should|gotta|got to)\\s+${STOP_VERB}\\b`,
    ),
    answer: 'optout',
  },
  {
    name: 'remove-me',
    re: /\b(?:remove|delete|erase|take)\s+(?:me|my (?:number|phone|phone number|cell|info|information|details|email|email address|address|data|contact))\b(?!\s+(?:to|home|back|out to))/,
    answer: 'optout',
    subjectCheck: true,
  },
  {
    name: 'make-them-stop',
    re: new RegExp(
      `\\bmake (?:these|the|your|all these|all the|these \\w+) ${MSG_NOUN}? ?(?:stop|end)\\b|\\bmake (?:these|them) stop\\b`,
    ),
    answer: 'optout',
  },
  {
    name: 'prefer-not',
    re: new RegExp(
      `\\b(?:prefer|rather|like|wish|want|ask|request)\\s+(?:to\\s+)?not\\s+(?:to\\s+)?(?:get|receive|be sent|be getting|be receiving|be contacted|hear)\\b|\\b${MSG_NOUN}\\s+(?:are|is)\\s+(?:no longer|not)\\s+(?:welcome|wanted|needed|necessary|helpful)\\b|\\b(?:do not|never)\\s+(?:want to|need to)\\s+hear from (?:you|you all|you guys|steady|this number)\\b|\\b(?:last|final)\\s+(?:text|message|email)\\s+(?:i|you)\\b|\\b(?:this|that)\\s+(?:is|was|be|will be)\\s+the\\s+(?:last|final)\\s+(?:text|message|email)\\b|\\b(?:i am|i am so)\\s+(?:good|ok|okay|fine|done|finished|over)\\s+(?:on|with|getting|receiving)\\s+(?:these|the|your|all these|all the)\\s*${MSG_NOUN}?\\b|\\b(?:count me out|refrain from|pull the plug on)\\b`,
    ),
    answer: 'optout',
    subjectCheck: true,
  },
  {
    name: 'less-often',
    re: /\b(?:less|fewer)\s+(?:texts|messages|emails|often|frequently)\b|\bsend (?:less|fewer|them less)\b|\b(?:text|message|email) me less\b|\b(?:mandar|manden|enviar|envien) menos\b|\bmenos (?:mensajes|seguido)\b|\bpause (?:these|this|them|it|the texts|the messages)\b|\bwhy do you keep (?:texting|messaging|emailing|sending)\b/,
    answer: 'unclear',
  },
  {
    name: 'keep-getting',
    re: new RegExp(
      `\\b(?:do i have to|why do i|why am i|how long do i have to|must i) (?:still |keep )*(?:get|getting|receive|receiving|be getting)\\s+(?:these|them|your|this|${MSG_NOUN})`,
    ),
    answer: 'unclear',
  },
  {
    name: 'not-right-for-me',
    re: /\b(?:this|these|the|your) (?:program |course |service |thing |texts |messages )?(?:is not|are not|is no longer|isnt) (?:for me|right for me|helping|working for me)|\bnot sure (?:this|the|your|it)(?: program| course| service)? is (?:right )?for me\b/,
    answer: 'unclear',
  },
  {
    name: 'not-for-me-consent',
    re: /\b(?:who is this|who are you|who gave you (?:this|my) (?:number|email|address)|how did you get (?:this|my) (?:number|email|address)|i (?:did not|never) (?:sign|signed) up(?: for (?:this|these|it|anything))?|i (?:did not|never) (?:ask|asked) for (?:this|these))\b/,
    answer: 'unclear',
  },
  { name: 'leave-me-alone', re: /\bleave me alone\b/, answer: 'optout', subjectCheck: true },
  { name: 'wrong-number', re: /\bwrong (?:number|person|phone)\b/, answer: 'optout' },
  // "how do I stop these texts?" asks to stop; "how do I cancel?" could mean anything.
  {
    name: 'you-stop',
    re: new RegExp(
      `\\byou\\s+(?:please\\s+)?(?:need to|have to|must|should|can|could|will|would|gotta|got to|better)?\\s*(?:please\\s+)?${STOP_VERB}(?:\\s+${FILLER})*$`,
    ),
    answer: 'optout',
  },
  {
    // "stop my husband reads these", "stop he checks my phone": a stop word opening the reply,
    // then the reason, unpunctuated. Someone else in the reason (who reads or checks) makes it a
    // clear stop; "stop i love this" or "stop you" may be delight ("stop, this is so cute"), so
    // those ask.
    name: 'leading-stop-reason',
    re: /^(?:(?:please|ok|okay|omg|just)\s+)*(?:stop|quit|unsubscribe|cancel|stop all|alto|basta)\s+(?:(?:please|now|right now|asap)\s+)*(?:he|she|they|hes|shes|theyre|my (?:partner|husband|wife|boyfriend|girlfriend|bf|gf|ex|fiance|fiancee|mom|mum|dad|mother|father|family|boss|kids?|son|daughter|brother|sister|roommate|in laws)|someone|somebody|people|el|ella|ellos|mi (?:esposo|esposa|marido|pareja|novio|novia|mama|papa|familia|ex|hijo|hija)|alguien)\b/,
    answer: 'optout',
  },
  {
    name: 'leading-stop-unclear',
    re: /^(?:(?:please|ok|okay|just)\s+)*(?:stop|quit|unsubscribe|cancel|stop all|alto|basta)\s+(?:(?:please|now)\s+)*(?:i|i am|we|you|your|this|these|yo|esto|estos)\b/,
    answer: 'unclear',
  },
  {
    name: 'bare-verb',
    re: new RegExp(
      `^(?:${FILLER}\\s+)*(?:stop|unsubscribe|quit|cancel|end|stop all|cease|discontinue|halt|remove)(?:\\s+(?!it$|this$)${FILLER})*$`,
    ),
    answer: 'optout',
  },
  {
    name: 'stop-it',
    re: /^(?:please\s+)?(?:stop it|stop this|end this|end it|cancel it|cancel this|quit it|quit this)(?:\s+please)?$/,
    answer: 'unclear',
  },
  {
    name: 'how-to-stop',
    re: new RegExp(
      `\\b(?:how (?:do|can|would|should) (?:i|we)|is there a way to|can i|could i) (?:${STOP_VERB}|get out|leave|get off|take a break from|step back from|step away from)(?=\\s+(?:this|these|it|them|the program|getting|receiving|now|please)\\b|$)|\\b(?:need|want|have) to (?:step back|step away|take a break) from (?:all )?(?:this|these|the program|it)\\b`,
    ),
    answer: 'unclear',
  },
  {
    name: 'want-to-quit',
    re: new RegExp(
      `^i\\s+(?:want to|need to|would like to|wish to|am going to|have to|would like)\\s+(?:${STOP_VERB}|leave)(?:\\s+(?:this|it|now|please|the program|already))*$|^i (?:quit|cancel|want out|am out|am finished|am done|am so done|am done with (?:this|these|it|you guys|you))$|^(?:can|could|may) i (?:${STOP_VERB}|leave|get out)(?:\\s+(?:this|it|now|please))*$`,
    ),
    answer: 'unclear',
  },
  {
    name: 'not-for-me',
    re: /^(?:(?:this is |this|its |it is )?not for me|not interested|no thanks|no thank you|enough|enough already|that is enough|i have had enough of (?:this|these)|no more)(?:\s+please)?$/,
    answer: 'unclear',
  },
];

// --- Spanish -----------------------------------------------------------------------------------
const ES_MSG_VERB =
  '(?:escribir(?:me|nos)?|mandar(?:me|nos)?|enviar(?:me|nos)?|textear(?:me)?|mensajear(?:me)?|contactar(?:me)?|molestar(?:me)?|llamar(?:me)?)';
const ES_MSG_NOUN =
  '(?:mensajes|textos|correos|emails|sms|notificaciones|recordatorios|mails|el programa|este programa|la suscripcion|mi suscripcion|esto|todo esto)';
const ES_THIRD =
  /\b(?:el (?:no|me|nunca|siempre|ya|sigue|dice|quiere)|ella|ellos|ellas|esposo|esposa|novio|novia|pareja|marido|ex|mama|papa|jefe|hijo|hija|hermano|hermana|alguien|nadie)\b/;

const ES: Rule[] = [
  {
    name: 'es-keep',
    re: /\bno\s+(?:me\s+)?(?:den de baja|cancelen|paren|dejen de (?:mandar|escribir|enviar)\w*)\b/,
    answer: 'keep',
  },
  {
    name: 'es-stop-writing',
    re: new RegExp(
      `\\b(?:deja|dejen|deje|dejar|dejad|paren|pare|para|parar|paran)\\s+de\\s+${ES_MSG_VERB}\\b`,
    ),
    answer: 'optout',
    subjectCheck: true,
  },
  {
    name: 'es-do-not-write',
    re: /\b(?:no|nunca|ya no|jamas)\s+(?:me|nos)\s+(?:(?:vuelvan|vuelvas|vuelva)\s+a\s+)?(?:escribas|escriban|escriba|escribir|manden|mandes|mande|mandar|envien|envies|envie|enviar|contacten|contactes|contacte|contactar|molesten|molestes|moleste|molestar|texteen|textees|llamen|llames)\b/,
    answer: 'optout',
    subjectCheck: true,
  },
  {
    name: 'es-do-not-want',
    re: new RegExp(
      `\\b(?:ya no|no)\\s+(?:quiero|deseo|necesito|quisiera)\\s+(?:seguir\\s+)?(?:(?:recibir(?:los)?|recibiendo)\\s+|que me (?:manden|escriban|envien|contacten|textien|texteen|llamen|sigan (?:mandando|escribiendo|enviando))\\s*)?(?:mas\\s+)?(?:los\\s+|sus\\s+|estos\\s+|tus\\s+|ningun\\s+|ninguna\\s+)?(?:${ES_MSG_NOUN})\\b|\\b(?:ya no|no) (?:quiero|deseo|quisiera) (?:recibir|que me (?:manden|escriban|envien|contacten|textien|texteen|llamen|sigan))\\b`,
    ),
    answer: 'optout',
    subjectCheck: true,
  },
  {
    name: 'es-no-more',
    re: new RegExp(
      `\\b(?:no mas|basta de|basta con|ya basta de|suficiente de)\\s+(?:los\\s+|sus\\s+|tantos\\s+|estos\\s+)?${ES_MSG_NOUN}\\b`,
    ),
    answer: 'optout',
  },
  {
    name: 'es-leave-list',
    re: /\b(?:salir|salirme|sacarme|quitarme|borrarme|eliminarme)\s+de\s+(?:la|esta|su|tu|sus|esa)\s+(?:lista|suscripcion|programa)\b|\b(?:elimin|borr|quit|saqu|sac)(?:en|a|e|ar|an)\s+(?:mi|mis)\s+(?:correo|numero|telefono|email|direccion|celular|datos|contacto)\b/,
    answer: 'optout',
    subjectCheck: true,
  },
  {
    name: 'es-unsubscribe',
    re: /\b(?:darme|dame|denme|deme|darse|me doy|me quiero dar|quiero darme|quisiera darme|de darme|me dan|me den)\s+de\s+baja\b|\bbaja\s+(?:por favor|ya|de (?:la lista|esto|los mensajes))\b|\b(?:borr|saqu|sac|quit|elimin)(?:a|e|en|ar)(?:me|n me|nme)\s+de\b|\b(?:borrenme|borrame|sacame|saquenme|quitenme|quitame|eliminenme|eliminame|retirenme|retirame|retireme)\b/,
    answer: 'optout',
    subjectCheck: true,
  },
  {
    name: 'es-cancel',
    re: new RegExp(
      // "terminar con esto / con todo" is despair, not a request: ending takes a message noun.
      `\\b(?:cancela|cancele|cancelen|cancelar|quiero cancelar|detengan|deten|detenga|paren|pare)\\s+(?:ya\\s+|por favor\\s+|con\\s+)*(?:${ES_MSG_NOUN}|los mensajes|mi numero)\\b|\\b(?:terminen|terminar)\\s+(?:ya\\s+|por favor\\s+|con\\s+)*(?:los |sus |estos )?(?:mensajes|textos|correos|la suscripcion|mi suscripcion|el programa)\\b`,
    ),
    answer: 'optout',
    subjectCheck: true,
  },
  {
    // "para ya con los mensajes": the singular imperative needs "con" (alone, "para" is "for").
    name: 'es-para-con',
    re: new RegExp(
      `\\b(?:para|paren|pare|parale|parenle)\\s+(?:ya\\s+|por favor\\s+)*con\\s+(?:los\\s+|sus\\s+|estos\\s+|tantos\\s+|tanto\\s+)?(?:${ES_MSG_NOUN}|mensaje)\\b`,
    ),
    answer: 'optout',
    subjectCheck: true,
  },
  {
    name: 'es-revoke',
    re: /\b(?:(?:este|esto|ese) (?:sea|fuera|es|seria) el ultimo (?:mensajes?|textos?|correos?))\b|\b(?:revoco|retiro|cancelo|revocar|retirar)\s+(?:mi\s+)?(?:consentimiento|permiso|autorizacion)\b|\bno (?:doy|tienen) (?:mi )?(?:consentimiento|permiso)\b|\bno (?:autorizo|acepto|doy permiso)\b/,
    answer: 'optout',
  },
  {
    name: 'es-bare-verb',
    re: /^(?:(?:ya|por favor|ok|oye|porfa|ya por favor)\s+)*(?:paren|parar|pare|alto|stop|detener|detenganse|detente|cancelar|cancelen|baja|fin|salir|no mas mensajes|para(?=\s+(?:ya|por favor)))(?:\s+(?:ya|por favor|gracias|ahora|ahora mismo|todo))*$/,
    answer: 'optout',
  },
  {
    name: 'es-wrong-number',
    re: /\b(?:numero equivocado|se equivocaron de numero|equivocado de numero)\b/,
    answer: 'optout',
  },
  {
    // A partner's demand relayed ("mi esposo quiere que me dé de baja"): ask, and an operator sees it.
    name: 'es-relayed',
    re: /\b(?:quiere|quieren|dijo|dice|pide|pidio|obliga|manda|exige) (?:que|a) (?:me )?(?:de de baja|den de baja|(?:cancele|deje|borre|quite|salga de) (?:esto|estos mensajes|los mensajes|este programa|el programa|la suscripcion|aqui))\b/,
    answer: 'unclear',
  },
  {
    name: 'es-stop-arriving',
    re: /\b(?:dejen|deje|dejar|paren|pare) de (?:llegar|llegarme|venir) (?:los |sus |estos )?(?:mensajes|textos|correos)\b/,
    answer: 'optout',
  },
  {
    name: 'es-no-consent',
    re: /\b(?:quien es|quien eres|quienes son|quien les dio (?:mi|este) numero|como consiguieron (?:mi|este) numero|(?:yo )?(?:no|nunca) me (?:inscribi|suscribi|registre|apunte)|(?:yo )?nunca pedi (?:esto|estos mensajes))\b/,
    answer: 'unclear',
  },
  {
    name: 'es-unclear',
    re: /^(?:ya no quiero|ya no|ya basta|ya estuvo|no me interesa|no gracias|no quiero|no quiero esto|ya no quiero esto|quiero salir|hasta aqui|no se si esto es para mi|esto no es para mi|quiero salirme|me quiero salir|como cancelo|como lo cancelo|como me salgo|como salgo de esto|como paro esto|ya fue suficiente|suficiente|quiero cancelar|quiero cancelarlo|quisiera cancelar|quiero parar)(?:\s+(?:por favor|gracias|mas|esto|de esto|de aqui|de la lista))*$/,
    answer: 'unclear',
  },
];

const RULES = [...EN, ...ES];

function thirdPartyBefore(clause: string, index: number, rule: Rule): boolean {
  if (!rule.subjectCheck) return false;
  const before = clause.slice(0, index);
  if (NEGATED.test(before) && !rule.name.startsWith('es-') && rule.name !== 'never-message')
    return true; // "he won't stop", "I can't stop texting"
  if (rule.name.startsWith('es-')) return ES_THIRD.test(before);
  return subjectIsThirdParty(before);
}

function subjectIsThirdParty(before: string): boolean {
  for (const w of before.trim().split(' ').reverse()) {
    if (FIRST_OR_SECOND.has(w)) return false;
    if (THIRD_PARTY.has(w)) return true;
  }
  return false;
}

/** "delete his number", "lose her texts": the thing removed belongs to someone else. */
function personAfter(clause: string, index: number): boolean {
  return /^\S+\s+(?:(?:\S+\s+)?(?:his|her|their|them|him)\b|(?:my )?(?:partner|husband|wife|boyfriend|girlfriend|ex|friend|boss)s?\b)/.test(
    clause.slice(index),
  );
}

function objectIsAPerson(clause: string, index: number, length: number): boolean {
  return PERSON_OBJECT.test(clause.slice(index + length).trim());
}

// A wider net under the phrase rules: a word that ends or removes ("stop", "lose", "delete",
// "no further", "suspendan") followed within a few small words by what we send ("texts", "my
// number", "your list", "correspondence"). Only small words may stand between the two ("lose my
// number", "cut it out with the texts"); "cancel plans when he texts me" has "plans" between.
const CEASE_EN = new Set(
  (
    'stop stopping quit cease end cancel discontinue halt suspend remove delete erase lose drop ' +
    'hold plug refrain chill off done ' +
    'unsubscribe opting block kill nix ditch scrap terminate further longer enough out not no'
  ).split(' '),
);
// Removing words ask to stop only when what goes is the person's details or their place on the
// list ("lose my number", "delete me from your system"): "I delete your texts every night so he
// won't see" is a safety signal, not an opt-out.
const REMOVAL = new Set('remove delete erase lose drop block kill nix ditch scrap'.split(' '));
const DETAILS = new Set(
  (
    'number contact contacts info information details address data list lists subscription ' +
    'records system database program numero lista datos suscripcion programa registros base'
  ).split(' '),
);
const CEASE_ES = new Set(
  (
    'paren pare parar dejen deja deje dejar suspendan suspende suspender cancelen cancela cancele ' +
    'cancelar eliminen elimina eliminar borren borra borrar retiren retira retirar saquen saca ' +
    'quiten quita quitar terminen terminar detengan basta mas no parenle parale parenla'
  ).split(' '),
);
const MESSAGING = new Set(
  (
    'text texts texting texted message messages messaging sms email emails emailing mail mails ' +
    'forwarding contacts ' +
    'correspondence contact contacted contacting communication communications number list lists ' +
    'system records database subscription program these notifications reminders alerts ' +
    'mensajes textos textear textien texteen correos correo email emails numero lista envio envios ' +
    'escribir escriban escribirme mandar manden mandarme enviar envien enviarme contactar contacten ' +
    'suscripcion programa registros base sms'
  ).split(' '),
);
/** After "not"/"no", only a sending verb counts: "not getting the texts" is a complaint. */
const AFTER_NOT =
  /^(?:not|no) (?:to )?(?:(?:be )?(?:send|sending|sent|text|texting|texted|message|messaging|email|emailing|contact|contacting|contacted|write|writing)|more|further|longer|(?:me |nos |les |a )?(?:escrib\w*|mand\w*|envi\w*|texte\w*|textien|contact\w*))\b/;
const SMALL = new Set(
  (
    'the these those this that your my all any more of with from me to be by it out off me us ' +
    'a an up sending getting receiving get receive send being wish want like please now already ' +
    'future upcoming w ' +
    'thanks thank you ok okay just further other again ever anymore any more kind via by on in ' +
    'los las la el de del mis mi su sus tu tus este esta estos estas a al con por favor ya mas me ' +
    'nos ustedes que mandando enviando escribiendo recibiendo todo todos cosas'
  ).split(' '),
);

function ceaseNearMessaging(clause: string): number | null {
  const words = clause.split(' ');
  let offset = 0;
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string;
    const english = (w === 'not' || w === 'no') && !AFTER_NOT.test(words.slice(i).join(' '));
    if ((CEASE_EN.has(w) || CEASE_ES.has(w)) && !english) {
      for (let j = i + 1; j < Math.min(words.length, i + 8); j++) {
        const next = words[j] as string;
        if (MESSAGING.has(next) && (!REMOVAL.has(w) || DETAILS.has(next))) {
          // "quit texting other people", "delete his texts": someone else's messages.
          if (PERSON_OBJECT.test(words.slice(j + 1).join(' '))) break;
          return offset;
        }
        if (!SMALL.has(next) && !/^\d+$/.test(next)) break;
      }
    }
    offset += w.length + 1;
  }
  return null;
}

// "Who gave you this number?" and "I never signed up" say consent was never given. Alone they
// are a question; beside another hesitant stop ("Stop it. Who gave you this number?") they are a
// clear no.
const NO_CONSENT = new Set(['not-for-me-consent', 'es-no-consent']);

/** What one reply says about consent. */
export function readRevocation(text: string): RevocationReading {
  let unclear: string | null = null;
  let unclearCount = 0;
  let noConsent = false;
  let kept = false;
  let wide = false;
  for (const clause of clauses(text)) {
    let settled = false; // this clause already matched a keep or an unclear rule
    for (const rule of RULES) {
      const m = rule.re.exec(clause);
      if (m === null) continue;
      settled = true;
      if (rule.answer === 'keep') {
        kept = true;
        break;
      }
      if (thirdPartyBefore(clause, m.index, rule)) {
        settled = false;
        continue;
      }
      if (rule.name === 'verb-object' || rule.name === 'verb-ing') {
        if (objectIsAPerson(clause, m.index, m[0].length)) {
          settled = false;
          continue;
        }
      }
      if (rule.answer === 'optout') return { revocation: 'optout', rule: rule.name };
      unclear ??= rule.name;
      unclearCount += 1;
      if (NO_CONSENT.has(rule.name)) noConsent = true;
      break;
    }
    if (settled) continue;
    const at = ceaseNearMessaging(clause);
    if (at !== null && !subjectIsThirdParty(clause.slice(0, at)) && !personAfter(clause, at))
      wide = true; // decided after every clause has had its phrase rules
  }
  if (wide) return { revocation: 'optout', rule: 'cease-messaging' };
  if (noConsent && unclearCount > 1 && !kept) return { revocation: 'optout', rule: 'no-consent' };
  if (unclear !== null && !kept) return { revocation: 'unclear', rule: unclear };
  return { revocation: null, rule: null };
}
