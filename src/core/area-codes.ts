// North American area codes whose whole area lies in one time zone. An area code that spans two
// zones is left out on purpose: the program's default zone (and the TZ keyword) is a better guess
// than a wrong one. Data, not logic; extend freely.
const ZONES: Record<string, string> = {
  'America/New_York':
    '201 202 203 205 207 212 215 216 220 223 229 234 239 240 248 267 272 276 301 302 304 305 313 315 321 326 330 332 334 336 339 340 347 351 352 380 386 401 404 407 410 412 413 415x 434 440 443 445 448 470 475 478 484 508 516 517 518 540 551 561 567 570 571 585 586 603 607 609 610 614 617 631 640 646 656 667 678 680 681 689 703 704 706 716 717 718 724 727 732 734 740 743 754 757 762 769 770 772 774 781 786 802 803 804 810 813 814 828 835 838 839 843 845 848 854 856 857 860 862 863 864 865 878 904 908 910 914 917 919 929 934 937 941 947 954 959 973 978 980 984 989',
  'America/Chicago':
    '205x 210 214 217 218 224 225 228 251 254 256 262 269x 281 309 312 314 318 319 320 331 334x 337 346 361 409 414 417 430 432x 469 479 501 504 507 512 515 531 563 573 601 608 612 618 620 630 636 641 651 660 662 682 708 712 713 715 731x 737 763 769x 773 779 815 816 817 830 832 847 870 872 901 903 913 918 920 936 940 952 956 972 979',
  'America/Denver': '303 307 385 406 435 480x 505 575 719 720 801 970 983',
  'America/Phoenix': '480 520 602 623 928',
  'America/Los_Angeles':
    '206 209 213 253 279 310 323 341 350 360 408 415 424 425 442 503 509 510 530 559 562 564 619 626 628 650 657 661 669 702 707 714 725 747 760 775 805 818 820 831 840 858 909 916 925 935 949 951 971',
  'America/Anchorage': '907',
  'Pacific/Honolulu': '808',
  'America/Toronto': '226 249 289 343 365 416 437 519 548 613 647 705 807x 905',
  'America/Vancouver': '236 250 604 672 778',
  'America/Edmonton': '368 403 587 780 825',
  'America/Winnipeg': '204 431',
  'America/Regina': '306 639',
  'America/Halifax': '782 902',
  'America/St_Johns': '709',
  'America/Puerto_Rico': '787 939',
};

export const AREA_CODE_ZONES: Record<string, string> = {};
for (const [zone, codes] of Object.entries(ZONES)) {
  for (const code of codes.split(/\s+/)) {
    // An "x" marks a code listed elsewhere or that spans zones: skip it here.
    if (!code.endsWith('x')) AREA_CODE_ZONES[code] = zone;
  }
}
