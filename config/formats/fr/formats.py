# One way to write a date across every page, e-mail and export, per language (FORMAT_MODULE_PATH):
# « 4 déc. 2026 » (the abbreviations French typography uses), « 4 déc. 2026, 14:00 ».
DATE_FORMAT = "j N Y"
SHORT_DATE_FORMAT = DATE_FORMAT
DATETIME_FORMAT = "j N Y, H:i"
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
