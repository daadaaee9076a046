/*
 * phone.cc - the C bridge to libphonenumber (see phone.h)
 *
 * libphonenumber's Parse() runs many regular expressions (about 10 µs a number), too slow for
 * importing millions of rows. A number already written "+<digits>" needs none of them: its
 * country calling code is found by prefix (codes are prefix-free) and its national number
 * checked with IsPossibleNumberWithReason(), as Parse() would. When the national number starts
 * with the region's trunk prefix, when the country's parsing rules do more than strip that
 * prefix (read from libphonenumber's own metadata), or when the number is not possible, the
 * full parser decides instead. tests/unit/profile/test_phone.c checks both paths agree.
 */
#include "profile/phone.h"

#include <phonenumbers/logger.h>
#include <phonenumbers/phonemetadata.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <map>
#include <vector>

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

/* libphonenumber would otherwise print its own complaints on stderr. */
static PhoneNumberUtil *make_util()
{
    PhoneNumberUtil *u = PhoneNumberUtil::GetInstance();
    u->SetLogger(new i18n::phonenumbers::NullLogger());
    return u;
}

static PhoneNumberUtil *util()
{
    static PhoneNumberUtil *u = make_util();
    return u;
}

static const char *possible_reason(PhoneNumberUtil::ValidationResult r)
{
    switch (r) {
    case PhoneNumberUtil::IS_POSSIBLE:
        return nullptr;
    case PhoneNumberUtil::IS_POSSIBLE_LOCAL_ONLY:
        return "local number only (no area code)";
    case PhoneNumberUtil::INVALID_COUNTRY_CODE:
        return "invalid country calling code";
    case PhoneNumberUtil::TOO_SHORT:
        return "too short";
    case PhoneNumberUtil::TOO_LONG:
        return "too long";
    case PhoneNumberUtil::INVALID_LENGTH:
        return "invalid length for its country";
    }
    return "not a possible number";
}

static const char *parse_reason(PhoneNumberUtil::ErrorType e)
{
    switch (e) {
    case PhoneNumberUtil::INVALID_COUNTRY_CODE_ERROR:
        return "invalid country calling code (give +<code> or a default country)";
    case PhoneNumberUtil::NOT_A_NUMBER:
        return "not a phone number";
    case PhoneNumberUtil::TOO_SHORT_AFTER_IDD:
        return "too short after the international prefix";
    case PhoneNumberUtil::TOO_SHORT_NSN:
        return "too short";
    case PhoneNumberUtil::TOO_LONG_NSN:
        return "too long";
    default:
        return "not a phone number";
    }
}

static int check_and_format(const PhoneNumber &num, char *out, const char **reason)
{
    std::string e164;
    const char *why = possible_reason(util()->IsPossibleNumberWithReason(num));
    if (why) {
        *reason = why;
        return -1;
    }
    util()->Format(num, PhoneNumberUtil::E164, &e164);
    if (e164.size() >= CR_PHONE_MAX) {
        *reason = "too long";
        return -1;
    }
    memcpy(out, e164.c_str(), e164.size() + 1);
    return 0;
}

extern "C" int cr_phone_normalize_full(const char *in, size_t n, const char *region, char *out,
                                       const char **reason)
{
    PhoneNumber num;
    std::string s(in, n);
    PhoneNumberUtil::ErrorType e =
        util()->Parse(s, region && *region ? std::string(region) : std::string("ZZ"), &num);
    if (e != PhoneNumberUtil::NO_PARSING_ERROR) {
        *reason = parse_reason(e);
        return -1;
    }
    return check_and_format(num, out, reason);
}

/* libphonenumber exports its compiled-in metadata but installs no header for it. */
namespace i18n {
namespace phonenumbers {
int metadata_size();
const void *metadata_get();
} // namespace phonenumbers
} // namespace i18n

/* What the fast paths need of each region and country calling code. A region is simple when
 * it parses a national number by at most stripping its literal trunk prefix: no national-prefix
 * regular expression (Brazil's or China's carrier codes) and no transform rule (Argentina's or
 * Mexico's). */
struct region_info {
    int cc = 0;
    bool simple = false;      /* parses national numbers by at most stripping ndd */
    bool idd_literal = false; /* the international prefix is plain digits ("00") */
    std::string idd, ndd;
};

struct code_info {
    bool known = false;
    region_info main; /* the region whose rules Parse() applies to "+<code>…" numbers */
};

struct phone_tables {
    std::vector<code_info> codes = std::vector<code_info>(1000);
    std::map<std::string, region_info> regions;
};

static region_info region_of(const i18n::phonenumbers::PhoneMetadata &m)
{
    region_info ri;
    const std::string &np = m.national_prefix(), &npp = m.national_prefix_for_parsing();
    const std::string &idd = m.international_prefix();
    ri.cc = m.country_code();
    ri.simple = np.find_first_not_of("0123456789") == std::string::npos &&
                (npp.empty() || npp == np) && !m.has_national_prefix_transform_rule();
    ri.idd_literal = !idd.empty() && idd.find_first_not_of("0123456789") == std::string::npos;
    ri.idd = idd;
    ri.ndd = np;
    return ri;
}

/* Read once from libphonenumber's metadata. If it cannot be read, every number takes the
 * full parser. */
static const phone_tables &tables()
{
    static const phone_tables t = [] {
        phone_tables pt;
        i18n::phonenumbers::PhoneMetadataCollection all;
        if (!all.ParseFromArray(i18n::phonenumbers::metadata_get(),
                                i18n::phonenumbers::metadata_size()))
            return pt;
        for (const auto &m : all.metadata()) {
            int cc = m.country_code();
            if (cc <= 0 || cc >= 1000)
                continue;
            region_info ri = region_of(m);
            code_info &ci = pt.codes[(size_t)cc];
            if (!ci.known || m.main_country_for_code())
                ci.main = ri;
            ci.known = true;
            if (m.id() != "001") /* non-geographic entities are not regions */
                pt.regions[m.id()] = ri;
        }
        return pt;
    }();
    return t;
}

/* For a national number already split from its country code: possible -> E.164 in out. */
static int finish_fast(int cc, const char *nat, size_t natlen, char *out)
{
    PhoneNumber num;
    unsigned long long national = 0;
    if (natlen == 0 || natlen > 17 || nat[0] == '0')
        return -1;
    for (size_t k = 0; k < natlen; k++)
        national = national * 10 + (unsigned long long)(nat[k] - '0');
    num.set_country_code(cc);
    num.set_national_number(national);
    if (util()->IsPossibleNumberWithReason(num) != PhoneNumberUtil::IS_POSSIBLE)
        return -1;
    /* E.164 of a number without leading zeros is "+", the code and the national digits. */
    int len = snprintf(out, CR_PHONE_MAX, "+%d%.*s", cc, (int)natlen, nat);
    return len > 0 && len < CR_PHONE_MAX ? 0 : -1;
}

extern "C" int cr_phone_normalize(const char *in, size_t n, const char *region, char *out,
                                  const char **reason)
{
    const phone_tables &t = tables();
    char digits[32];
    size_t nd = 0, i = 0;
    bool plus = n > 0 && in[0] == '+';

    /* Fast paths take only digits and the separators people type. */
    for (i = plus ? 1 : 0; i < n; i++) {
        char c = in[i];
        if (c >= '0' && c <= '9') {
            if (nd == sizeof digits)
                break;
            digits[nd++] = c;
        } else if (c != ' ' && c != '.' && c != '-') {
            break;
        }
    }
    if (i == n && nd >= 4) {
        if (plus && digits[0] != '0') {
            /* Codes are prefix-free: the first known one is the number's code, and Parse()
             * reads the rest with the rules of the code's main region. */
            for (size_t cclen = 1; cclen <= 3 && cclen < nd; cclen++) {
                int cc = 0;
                for (size_t k = 0; k < cclen; k++)
                    cc = cc * 10 + (digits[k] - '0');
                if (!t.codes[(size_t)cc].known)
                    continue;
                const region_info &ri = t.codes[(size_t)cc].main;
                const char *nat = digits + cclen;
                size_t natlen = nd - cclen;
                if (ri.simple &&
                    !(!ri.ndd.empty() && natlen >= ri.ndd.size() &&
                      memcmp(nat, ri.ndd.data(), ri.ndd.size()) == 0) &&
                    finish_fast(cc, nat, natlen, out) == 0)
                    return 0;
                break;
            }
        } else if (!plus && region && region[0]) {
            /* A national number: it starts with its region's trunk prefix (when the region
             * has one), and neither with the region's international prefix nor with its
             * country code (Parse() may read "33 6…" in France as "+33 6…"). */
            auto it = t.regions.find(region);
            if (it != t.regions.end() && it->second.simple && it->second.idd_literal) {
                const region_info &ri = it->second;
                char ccs[8];
                int cclen = snprintf(ccs, sizeof ccs, "%d", ri.cc);
                if (nd > ri.ndd.size() && memcmp(digits, ri.ndd.data(), ri.ndd.size()) == 0 &&
                    !(cclen > 0 && nd >= (size_t)cclen && memcmp(digits, ccs, (size_t)cclen) == 0) &&
                    !(nd >= ri.idd.size() && memcmp(digits, ri.idd.data(), ri.idd.size()) == 0) &&
                    finish_fast(ri.cc, digits + ri.ndd.size(), nd - ri.ndd.size(), out) == 0)
                    return 0;
            }
        }
    }
    /* Everything else, and every number a fast path would not accept: the full parser decides
     * (and words the reason). */
    return cr_phone_normalize_full(in, n, region, out, reason);
}

extern "C" int cr_phone_region_known(const char *region)
{
    return region && util()->GetCountryCodeForRegion(region) != 0;
}

extern "C" void cr_phone_describe(const char *e164, const char **type, int *valid, char region[4])
{
    PhoneNumber num;
    std::string r;
    *type = "unknown";
    *valid = 0;
    region[0] = '\0';
    if (util()->Parse(e164, "ZZ", &num) != PhoneNumberUtil::NO_PARSING_ERROR)
        return;
    *valid = util()->IsValidNumber(num);
    util()->GetRegionCodeForNumber(num, &r);
    snprintf(region, 4, "%s", r.c_str());
    switch (util()->GetNumberType(num)) {
    case PhoneNumberUtil::FIXED_LINE:
        *type = "fixed_line";
        break;
    case PhoneNumberUtil::MOBILE:
        *type = "mobile";
        break;
    case PhoneNumberUtil::FIXED_LINE_OR_MOBILE:
        *type = "fixed_line_or_mobile";
        break;
    case PhoneNumberUtil::TOLL_FREE:
        *type = "toll_free";
        break;
    case PhoneNumberUtil::PREMIUM_RATE:
        *type = "premium_rate";
        break;
    case PhoneNumberUtil::SHARED_COST:
        *type = "shared_cost";
        break;
    case PhoneNumberUtil::VOIP:
        *type = "voip";
        break;
    case PhoneNumberUtil::PERSONAL_NUMBER:
        *type = "personal_number";
        break;
    case PhoneNumberUtil::PAGER:
        *type = "pager";
        break;
    case PhoneNumberUtil::UAN:
        *type = "uan";
        break;
    case PhoneNumberUtil::VOICEMAIL:
        *type = "voicemail";
        break;
    default:
        break;
    }
}
