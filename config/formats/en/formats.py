# One way to write a date across every page, e-mail and export, per language (FORMAT_MODULE_PATH):
# day, short month, year ("4 Dec 2026"), never the ambiguous 12/04/2026 next to "Dec. 4, 2026";
# times on the 24-hour clock, as the calendar and the session form show them.
DATE_FORMAT = "j M Y"
SHORT_DATE_FORMAT = DATE_FORMAT
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
