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

/* simple_code[cc] is true when every region of country calling code cc parses a national
 * number by at most stripping its literal trunk prefix: no national-prefix regular expression
 * (carrier codes, as in Brazil or China) and no transform rule (as in Argentina or Mexico).
 * Only those codes take the fast path. If the metadata cannot be read, none do. */
static const std::vector<bool> &simple_codes()
{
    static const std::vector<bool> table = [] {
        std::vector<bool> simple(1000, false);
        std::vector<bool> seen(1000, false);
        i18n::phonenumbers::PhoneMetadataCollection all;
        if (!all.ParseFromArray(i18n::phonenumbers::metadata_get(),
                                i18n::phonenumbers::metadata_size()))
            return simple;
        for (const auto &m : all.metadata()) {
            int cc = m.country_code();
            if (cc <= 0 || cc >= 1000)
                continue;
            const std::string &np = m.national_prefix();
            const std::string &npp = m.national_prefix_for_parsing();
            bool literal = np.find_first_not_of("0123456789") == std::string::npos;
            bool ok = literal && (npp.empty() || npp == np) && !m.has_national_prefix_transform_rule();
            simple[cc] = seen[cc] ? simple[cc] && ok : ok;
            seen[cc] = true;
        }
        return simple;
    }();
    return table;
}

static bool needs_full_parser(int cc)
{
    return cc <= 0 || cc >= 1000 || !simple_codes()[(size_t)cc];
}

extern "C" int cr_phone_normalize(const char *in, size_t n, const char *region, char *out,
                                  const char **reason)
{
    /* Fast path: exactly "+" then 8 to 15 digits. */
    if (n >= 9 && n <= 16 && in[0] == '+' && in[1] != '0') {
        size_t i;
        for (i = 1; i < n; i++)
            if (in[i] < '0' || in[i] > '9')
                break;
        if (i == n) {
            for (size_t cclen = 1; cclen <= 3 && cclen < n - 1; cclen++) {
                int cc = 0;
                std::string main_region;
                for (size_t k = 1; k <= cclen; k++)
                    cc = cc * 10 + (in[k] - '0');
                util()->GetRegionCodeForCountryCode(cc, &main_region);
                if (main_region == "ZZ")
                    continue;
                /* Codes are prefix-free: this is the number's code. */
                const char *nat = in + 1 + cclen;
                size_t natlen = n - 1 - cclen;
                std::string ndd;
                if (needs_full_parser(cc) || nat[0] == '0')
                    break;
                util()->GetNddPrefixForRegion(main_region, true, &ndd);
                if (!ndd.empty() && natlen >= ndd.size() &&
                    memcmp(nat, ndd.data(), ndd.size()) == 0)
                    break;
                PhoneNumber num;
                unsigned long long national = 0;
                for (size_t k = 0; k < natlen; k++)
                    national = national * 10 + (unsigned long long)(nat[k] - '0');
                num.set_country_code(cc);
                num.set_national_number(national);
                /* Only a possible number is final here: the full parser may still rescue an
                 * impossible one with its transform rules, and words the reason better. */
                if (check_and_format(num, out, reason) == 0)
                    return 0;
                break;
            }
        }
    }
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
