// The time zone of a North American number, guessed from its area code before the person tells
// us (TZ keyword). Data, not logic.
//
// Sources: which codes exist and the places they serve, NANPA's area code assignments
// (nationalnanpa.com, NPA reports and overlay planning letters); which zone each place keeps, the
// IANA tz database (zone1970.tab and its comments: e.g. America/Boise for southern Idaho and
// Malheur County OR, America/Indiana/* and America/Kentucky/* for the split counties,
// America/North_Dakota/* for the Central parts of ND). This table was written from knowledge of
// both (this environment has no network access to NANPA), not generated from them: when in doubt
// a code was left out (null: the program's default zone and the TZ keyword decide) rather than
// guessed. Codes whose places keep the same clock today are folded into one zone (Michigan,
// Indiana and Kentucky's Eastern parts: America/New_York; Idaho's Mountain part: America/Denver).
//
// A code whose people live on more than one clock is SPLIT, never given the majority's zone: see
// SPLIT below for the zone we use until the person tells us, and why.
const ZONES: Record<string, string> = {
  'America/New_York':
    // CT DE DC FL GA IN KY ME MD MA MI NH NJ NY NC OH PA RI SC TN VT VA WV, Eastern parts only
    '201 202 203 207 212 215 216 220 223 229 231 234 239 240 248 252 260 267 269 272 276 301 ' +
    '302 304 305 313 315 317 321 326 330 332 336 339 347 351 352 380 386 401 404 407 410 412 ' +
    '413 419 434 440 443 445 463 470 475 478 484 502 508 513 516 517 518 540 551 561 567 570 ' +
    '571 585 586 603 607 609 610 614 616 617 631 640 645 646 656 667 678 679 680 681 689 703 ' +
    '704 706 716 717 718 724 727 732 734 740 743 754 757 762 765 770 771 772 774 781 786 802 ' +
    '803 804 810 813 814 828 835 838 839 843 845 848 854 856 857 859 860 862 863 864 865 878 ' +
    '904 908 910 912 914 917 919 929 934 937 941 947 954 959 973 978 980 984 989',
  'America/Chicago':
    // AL AR IL IA KS LA MN MS MO NE OK TN TX WI, Central parts only (Alabama and Mississippi
    // are Central: 205, 256, 659, 938, 769 are not Eastern)
    '205 210 214 217 218 224 225 228 251 254 256 262 274 281 309 312 314 316 318 319 320 325 ' +
    '327 331 337 346 361 402 405 409 414 417 430 447 464 469 479 501 504 507 512 515 531 539 ' +
    '557 563 572 573 580 601 608 612 615 618 629 630 636 641 651 659 660 662 682 708 712 713 ' +
    '715 726 730 731 737 763 769 773 779 806 815 816 817 830 832 847 870 872 901 903 913 918 ' +
    '920 936 938 940 945 952 956 972 979 985',
  // CO MT NM UT WY, and 915: El Paso and Hudspeth counties, both Mountain (not a split code).
  'America/Denver': '303 307 385 406 435 505 575 719 720 801 915 970 983',
  // Arizona keeps standard time all year (except the Navajo Nation: 928 is split).
  'America/Phoenix': '480 520 602 623',
  'America/Los_Angeles':
    // CA NV OR WA, Pacific parts only
    '206 209 213 253 279 310 323 341 350 360 408 415 424 425 442 503 509 510 530 559 562 564 ' +
    '619 626 628 650 657 661 669 702 707 714 725 747 760 805 818 820 831 840 858 909 916 925 ' +
    '949 951 971',
  'Pacific/Honolulu': '808',
  'America/Puerto_Rico': '787 939',
  // US Virgin Islands: Atlantic Standard Time all year.
  'America/St_Thomas': '340',
  'Pacific/Guam': '671',
  'Pacific/Saipan': '670',
  'Pacific/Pago_Pago': '684',
  // Canada (Quebec's Eastern-only codes keep Toronto's clock).
  'America/Toronto':
    '226 249 263 289 343 354 365 382 416 437 438 450 468 514 519 548 579 613 647 683 705 742 ' +
    '753 819 873 905',
  'America/Vancouver': '604',
  'America/Edmonton': '368 403 587 780 825',
  'America/Winnipeg': '204 431',
  'America/Regina': '306 474 639',
  'America/Moncton': '428 506',
  'America/Halifax': '782 902',
};

/**
 * Codes whose people live on more than one clock, with the zones they span. The first zone is
 * the one we use until the person says otherwise: the zone whose clock is never later than the
 * others' (the western one; tests check this against the tz database in January and July).
 *
 * Why the western zone. Quiet hours are 21:00-08:00 local, and program steps are 09:00-19:00.
 * A step's own time is allowed in both zones either way (they differ by an hour or less). What
 * differs is the edge: anything that falls in quiet hours is moved to their end, 08:00 in the
 * zone we chose. 08:00 western is 09:00 eastern, allowed for both; 08:00 eastern would be 07:00
 * for the western half, every time. The other edge is rarer and is the person's own choice: a
 * send at 20:00-21:00 western time (TIME 8pm, or a late step let through just before quiet hours)
 * is 21:00-22:00 in the eastern half. No single zone keeps both edges for both halves (the
 * intersection of the two allowed windows is an hour shorter than either), so the person is asked
 * to set their zone (TZ Central), and the morning edge, which every deferred send uses, is the
 * one we protect.
 */
const SPLIT: Record<string, readonly string[]> = {
  // Alaska: the Aleutians west of 169.5°W keep Hawaii-Aleutian time.
  '907': ['America/Adak', 'America/Anchorage'],
  // Idaho: the panhandle is Pacific, the south Mountain (America/Boise).
  '208': ['America/Los_Angeles', 'America/Denver'],
  '986': ['America/Los_Angeles', 'America/Denver'],
  // Oregon: Malheur County is Mountain.
  '541': ['America/Los_Angeles', 'America/Denver'],
  '458': ['America/Los_Angeles', 'America/Denver'],
  // Nevada: West Wendover keeps Mountain time (by local practice).
  '775': ['America/Los_Angeles', 'America/Denver'],
  // Arizona: the Navajo Nation observes daylight saving time.
  '928': ['America/Phoenix', 'America/Denver'],
  // Great Plains: the western counties are Mountain.
  '308': ['America/Denver', 'America/Chicago'], // Nebraska
  '605': ['America/Denver', 'America/Chicago'], // South Dakota
  '701': ['America/Denver', 'America/Chicago'], // North Dakota
  '620': ['America/Denver', 'America/Chicago'], // Kansas: Greeley, Hamilton
  '785': ['America/Denver', 'America/Chicago'], // Kansas: Sherman, Wallace
  '432': ['America/Denver', 'America/Chicago'], // Texas: Culberson County keeps Mountain time
  // Florida panhandle west of the Apalachicola is Central; 448 overlays 850.
  '850': ['America/Chicago', 'America/New_York'],
  '448': ['America/Chicago', 'America/New_York'],
  // Alabama: Phenix City and its neighbours keep Eastern time with Columbus, GA.
  '334': ['America/Chicago', 'America/New_York'],
  // Kentucky (364 overlays 270) and Tennessee: Central in the west, Eastern in the east.
  '270': ['America/Chicago', 'America/New_York'],
  '364': ['America/Chicago', 'America/New_York'],
  '606': ['America/Chicago', 'America/New_York'],
  '423': ['America/Chicago', 'America/New_York'],
  '931': ['America/Chicago', 'America/New_York'],
  // Indiana: the northwest and southwest corners are Central (930 overlays 812).
  '219': ['America/Chicago', 'America/New_York'],
  '574': ['America/Chicago', 'America/New_York'],
  '812': ['America/Chicago', 'America/New_York'],
  '930': ['America/Chicago', 'America/New_York'],
  // Michigan: the four Upper Peninsula counties on the Wisconsin border are Central.
  '906': ['America/Chicago', 'America/New_York'],
  // Canada
  '807': ['America/Winnipeg', 'America/Toronto'], // Ontario west of 90°W is Central
  // British Columbia: Peace River (no DST) and the East Kootenays (Mountain).
  '250': ['America/Vancouver', 'America/Dawson_Creek', 'America/Edmonton'],
  '236': ['America/Vancouver', 'America/Dawson_Creek', 'America/Edmonton'],
  '672': ['America/Vancouver', 'America/Dawson_Creek', 'America/Edmonton'],
  '778': ['America/Vancouver', 'America/Dawson_Creek', 'America/Edmonton'],
  // Quebec east of 63°W (no DST) and the Magdalen Islands (Atlantic).
  '418': ['America/Toronto', 'America/Blanc-Sablon', 'America/Halifax'],
  '581': ['America/Toronto', 'America/Blanc-Sablon', 'America/Halifax'],
  '367': ['America/Toronto', 'America/Blanc-Sablon', 'America/Halifax'],
  // Newfoundland and Labrador: most of Labrador is Atlantic.
  '709': ['America/Goose_Bay', 'America/St_Johns'],
  '879': ['America/Goose_Bay', 'America/St_Johns'],
  // Yukon, Northwest Territories, Nunavut: three hours wide in summer, so no zone keeps the
  // program's 18:30 out of Iqaluit's quiet hours; the earliest clock still protects the mornings.
  '867': ['America/Whitehorse', 'America/Edmonton', 'America/Rankin_Inlet', 'America/Iqaluit'],
};

export type AreaCodeZone =
  /** One zone covers the code. */
  | { zone: string; spans: null }
  /** The code spans `spans`; `zone` is the one to use until the person tells us (see SPLIT). */
  | { zone: string; spans: readonly string[] };

const SINGLE: Record<string, string> = {};
for (const [zone, codes] of Object.entries(ZONES))
  for (const code of codes.split(/\s+/)) SINGLE[code] = zone;

/** Every code we know, single-zone and split. */
export const KNOWN_AREA_CODES: readonly string[] = [
  ...Object.keys(SINGLE),
  ...Object.keys(SPLIT),
].sort();

/** The zone of an area code, and whether it is a guess among several; null for unknown codes. */
export function zoneForAreaCode(code: string): AreaCodeZone | null {
  const spans = SPLIT[code];
  if (spans?.[0]) return { zone: spans[0], spans };
  const zone = SINGLE[code];
  return zone ? { zone, spans: null } : null;
}
