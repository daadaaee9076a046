/*
 * phone_examples.cc - test helper: libphonenumber's example numbers for every region, in
 * E.164, with variants one digit shorter and longer (C++ because the examples come from C++).
 */
#include <phonenumbers/phonenumberutil.h>

#include <cstdlib>
#include <cstring>
#include <set>
#include <string>

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

extern "C" char **phone_examples(size_t *count);

extern "C" char **phone_examples(size_t *count)
{
    PhoneNumberUtil *u = PhoneNumberUtil::GetInstance();
    std::set<std::string> regions;
    std::set<std::string> out;
    const PhoneNumberUtil::PhoneNumberType types[] = {
        PhoneNumberUtil::FIXED_LINE,   PhoneNumberUtil::MOBILE,          PhoneNumberUtil::TOLL_FREE,
        PhoneNumberUtil::PREMIUM_RATE, PhoneNumberUtil::SHARED_COST,     PhoneNumberUtil::VOIP,
        PhoneNumberUtil::PERSONAL_NUMBER, PhoneNumberUtil::PAGER,        PhoneNumberUtil::UAN,
        PhoneNumberUtil::VOICEMAIL};
    u->GetSupportedRegions(&regions);
    for (const std::string &r : regions) {
        for (PhoneNumberUtil::PhoneNumberType t : types) {
            PhoneNumber n;
            std::string e164;
            if (!u->GetExampleNumberForType(r, t, &n))
                continue;
            u->Format(n, PhoneNumberUtil::E164, &e164);
            out.insert(e164);
            out.insert(e164 + "7");
            if (e164.size() > 4)
                out.insert(e164.substr(0, e164.size() - 1));
            /* the trunk prefix kept after the country code, as people write "+33 0 6…" */
            std::string cc = std::to_string(n.country_code());
            out.insert("+" + cc + "0" + e164.substr(1 + cc.size()));
        }
    }
    char **v = (char **)malloc(out.size() * sizeof *v);
    size_t i = 0;
    for (const std::string &s : out)
        v[i++] = strdup(s.c_str());
    *count = i;
    return v;
}

extern "C" char **phone_regions(size_t *count);

/* Every region libphonenumber supports, with its trunk prefix appended after a ':' ("FR:0"). */
extern "C" char **phone_regions(size_t *count)
{
    PhoneNumberUtil *u = PhoneNumberUtil::GetInstance();
    std::set<std::string> regions;
    u->GetSupportedRegions(&regions);
    char **v = (char **)malloc(regions.size() * sizeof *v);
    size_t i = 0;
    for (const std::string &r : regions) {
        std::string ndd;
        u->GetNddPrefixForRegion(r, true, &ndd);
        v[i++] = strdup((r + ":" + ndd).c_str());
    }
    *count = i;
    return v;
}
