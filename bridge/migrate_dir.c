/*
 * migrate_dir.c
 *		Read a directory of migration files: NNN_name.up.sql,
 *NNN_name.down.sql.
 *
 * `plugin-storage-bridge migrate` sends a plugin's migrations as one
 * request; this file turns the plugin's migration directory into that list.
 * A migration is NNN_name.up.sql, with an optional NNN_name.down.sql; its
 * version is the stem ("001_create_quotes", at most 128 bytes), NNN (digits)
 * orders it (plugin_migrate compares the numbers, so 9_a comes before
 * 10_b) and name is letters, digits, '_', '-' or '.'.  Files not ending
 * in .sql, and hidden ones, are ignored (a README may sit beside the
 * migrations).
 *
 * Refused, with a message naming the file, so that nothing half-read is
 * ever sent: a .sql file whose name does not fit the pattern, a down
 * without its up, two migrations with the same number (001_a and 01_b,
 * whose order only their names would decide), a file that cannot be
 * read, is not a regular file, is
 * larger than the request limit, is empty, holds a NUL byte or is not
 * UTF-8.  A leading UTF-8 byte order mark, which some editors write, is
 * dropped.  Files are read in name order, so the first error is the same
 * on every run.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "migrate_dir.h"

#define MIGRATE_NUMBER_DIGITS_MAX 18
#define MIGRATE_VERSION_MAX 128 /* plugin_migrate's limit, in bytes */

/* Check that len bytes are UTF-8; give the offset of the first bad byte */
static bool
MigrateUtf8(const unsigned char *s, size_t len, size_t *bad)
{
	size_t i = 0;

	while (i < len)
	{
		unsigned c = s[i];
		size_t n;
		unsigned cp;

		if (c < 0x80)
		{
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			n = 1, cp = c & 0x1F;
		else if (c >= 0xE0 && c <= 0xEF)
			n = 2, cp = c & 0x0F;
		else if (c >= 0xF0 && c <= 0xF4)
			n = 3, cp = c & 0x07;
		else
			break;
		for (size_t k = 1; k <= n; k++)
		{
			if (i + k >= len || (s[i + k] & 0xC0) != 0x80)
			{
				*bad = i;
				return false;
			}
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		/* overlong forms, surrogates, beyond U+10FFFF */
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
			(cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
			break;
		i += n + 1;
	}
	*bad = i;
	return i == len;
}

/* Tell whether text holds nothing but blanks */
static bool
MigrateBlank(const char *text)
{
	for (const char *p = text; *p; p++)
		if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r' &&
			*p != '\f' && *p != '\v')
			return false;
	return true;
}

/* Read a whole migration file, checking it; NULL with err set if bad */
static char *
MigrateReadFile(const char *path, size_t max_bytes, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	char *text;
	size_t len = 0;
	size_t bad;

	if (fd < 0 || fstat(fd, &st) != 0)
	{
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode) || (uintmax_t) st.st_size > max_bytes)
	{
		if (!S_ISREG(st.st_mode))
			snprintf(err, errlen, "%s is not a regular file", path);
		else
			snprintf(err, errlen,
					 "%s is %lld bytes, over the request limit of %zu bytes",
					 path, (long long) st.st_size, max_bytes);
		close(fd);
		return NULL;
	}
	text = malloc((size_t) st.st_size + 1);
	while (len < (size_t) st.st_size)
	{
		ssize_t got = read(fd, text + len, (size_t) st.st_size - len);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		len += (size_t) got;
	}
	close(fd);
	text[len] = '\0';
	if (len != (size_t) st.st_size)
		snprintf(err, errlen, "cannot read %s: it changed while read", path);
	else if (memchr(text, '\0', len) != NULL)
		snprintf(err, errlen, "%s holds a NUL byte: is it a text file?", path);
	else if (!MigrateUtf8((const unsigned char *) text, len, &bad))
		snprintf(err, errlen, "%s is not valid UTF-8 (byte %zu)", path,
				 bad + 1);
	else if (MigrateBlank(text))
		snprintf(err, errlen, "%s is empty", path);
	else
	{
		if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
			memmove(text, text + 3, len - 2);
		return text;
	}
	free(text);
	return NULL;
}

/*
 * Split a file name into version, number and kind (true: up).  Return 0
 * if it names a migration, -1 if it is not a .sql file (ignored), 1 if it
 * is a .sql file with a bad name.
 */
static int
MigrateParseName(const char *name, char *version, size_t vlen,
				 unsigned long long *number, bool *up)
{
	size_t len = strlen(name);
	size_t stem;
	size_t digits = 0;

	if (name[0] == '.' || len < 4 || strcmp(name + len - 4, ".sql") != 0)
		return -1;
	if (len > 7 && strcmp(name + len - 7, ".up.sql") == 0)
		stem = len - 7, *up = true;
	else if (len > 9 && strcmp(name + len - 9, ".down.sql") == 0)
		stem = len - 9, *up = false;
	else
		return 1;
	while (digits < stem && name[digits] >= '0' && name[digits] <= '9')
		digits++;
	if (digits == 0 || digits > MIGRATE_NUMBER_DIGITS_MAX ||
		digits + 1 >= stem || name[digits] != '_' || stem >= vlen ||
		stem > MIGRATE_VERSION_MAX)
		return 1;
	for (size_t i = digits + 1; i < stem; i++)
	{
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
			return 1;
	}
	memcpy(version, name, stem);
	version[stem] = '\0';
	*number = strtoull(name, NULL, 10);
	return 0;
}

/* Order strings for qsort */
static int
MigrateCompareNames(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Order migrations by number for qsort */
static int
MigrateCompareNumbers(const void *a, const void *b)
{
	const Migration *x = a;
	const Migration *y = b;

	return (x->number > y->number) - (x->number < y->number);
}

/* List the entries of dir, sorted by name; NULL with err set on failure */
static char **
MigrateListDir(const char *dir, int *count, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	int n = 0;
	int cap = 0;

	if (d == NULL)
	{
		snprintf(err, errlen, "cannot open directory %s: %s", dir,
				 strerror(errno));
		return NULL;
	}
	while ((e = readdir(d)) != NULL)
	{
		if (n == cap)
		{
			cap = cap ? cap * 2 : 32;
			names = realloc(names, (size_t) cap * sizeof(char *));
		}
		names[n++] = strdup(e->d_name);
	}
	closedir(d);
	if (n > 0)
		qsort(names, (size_t) n, sizeof(char *), MigrateCompareNames);
	*count = n;
	return names ? names : calloc(1, sizeof(char *));
}

/* Find the migration with this number, adding it if there is none */
static Migration *
MigrateSlot(MigrationSet *set, int *cap, unsigned long long number)
{
	for (int i = 0; i < set->count; i++)
		if (set->items[i].number == number)
			return &set->items[i];
	if (set->count == *cap)
	{
		*cap = *cap ? *cap * 2 : 16;
		set->items = realloc(set->items, (size_t) *cap * sizeof(Migration));
	}
	memset(&set->items[set->count], 0, sizeof(Migration));
	set->items[set->count].number = number;
	return &set->items[set->count++];
}

/* Add one file to the set; false with err set if it is refused */
static bool
MigrateAddFile(MigrationSet *set, int *cap, const char *dir, const char *name,
			   size_t max_bytes, char *err, size_t errlen)
{
	char version[256];
	char path[4096];
	unsigned long long number;
	bool up;
	int kind = MigrateParseName(name, version, sizeof(version), &number, &up);
	Migration *m;
	char *text;

	if (kind < 0)
		return true;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (kind > 0)
	{
		snprintf(err, errlen,
				 "%s is not a migration file: name it NNN_name.up.sql or "
				 "NNN_name.down.sql (name: letters, digits, _, - or .; "
				 "NNN_name at most 128 bytes)",
				 path);
		return false;
	}
	m = MigrateSlot(set, cap, number);
	if (m->version && strcmp(m->version, version) != 0)
	{
		snprintf(err, errlen,
				 "two migrations are numbered %llu in %s: %s and %s", number,
				 dir, m->version, version);
		return false;
	}
	text = MigrateReadFile(path, max_bytes, err, errlen);
	if (text == NULL)
		return false;
	if (m->version == NULL)
		m->version = strdup(version);
	if (up)
		m->up = text, m->up_path = strdup(path);
	else
		m->down = text, m->down_path = strdup(path);
	return true;
}

/* Check the set once every file is in: each migration has its up */
static bool
MigrateCheckSet(const MigrationSet *set, char *err, size_t errlen)
{
	for (int i = 0; i < set->count; i++)
	{
		const Migration *m = &set->items[i];

		if (m->up == NULL)
		{
			snprintf(err, errlen, "%s has no %s.up.sql beside it",
					 m->down_path, m->version);
			return false;
		}
	}
	return true;
}

/*
 * Read every migration of dir into out, in version order; files larger
 * than max_file_bytes are refused.  Return false with err set (and out
 * empty) if anything is wrong; an empty directory is an empty set.
 */
bool
migrate_dir_read(const char *dir, size_t max_file_bytes, MigrationSet *out,
				 char *err, size_t errlen)
{
	int n = 0;
	int cap = 0;
	char **names = MigrateListDir(dir, &n, err, errlen);
	bool ok = names != NULL;

	memset(out, 0, sizeof(*out));
	for (int i = 0; ok && i < n; i++)
		ok = MigrateAddFile(out, &cap, dir, names[i], max_file_bytes, err,
							errlen);
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (ok && out->count > 1)
		qsort(out->items, (size_t) out->count, sizeof(Migration),
			  MigrateCompareNumbers);
	if (ok)
		ok = MigrateCheckSet(out, err, errlen);
	if (!ok)
		migrate_dir_free(out);
	return ok;
}

/* Find a migration by version, or NULL */
const Migration *
migrate_dir_find(const MigrationSet *set, const char *version)
{
	for (int i = 0; i < set->count; i++)
		if (strcmp(set->items[i].version, version) == 0)
			return &set->items[i];
	return NULL;
}

/* Free what migrate_dir_read filled in */
void
migrate_dir_free(MigrationSet *set)
{
	for (int i = 0; i < set->count; i++)
	{
		free(set->items[i].version);
		free(set->items[i].up);
		free(set->items[i].down);
		free(set->items[i].up_path);
		free(set->items[i].down_path);
	}
	free(set->items);
	memset(set, 0, sizeof(*set));
}
