#include "elf_binary.hpp"

#include <fmt/format.h>
#include <gelf.h>
#include <libelf.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace vigil::uprobe {

namespace {

struct ElfCloser {
    void operator()(Elf* e) const { elf_end(e); }
};

// A stapsdt note's description: pc, base and semaphore addresses, then provider, name and the
// argument spec, each NUL-terminated.
void read_stapsdt(Elf* elf, Elf_Scn* scn, std::vector<UsdtSite>& out)
{
    Elf_Data* data = elf_getdata(scn, nullptr);
    if (!data)
        return;
    GElf_Nhdr nhdr;
    size_t off = 0, name_off = 0, desc_off = 0;
    const size_t word = gelf_getclass(elf) == ELFCLASS32 ? 4 : 8;
    while ((off = gelf_getnote(data, off, &nhdr, &name_off, &desc_off)) > 0) {
        const char* base = static_cast<const char*>(data->d_buf);
        if (nhdr.n_type != 3 || nhdr.n_namesz != 8 || std::memcmp(base + name_off, "stapsdt", 8) != 0 ||
            nhdr.n_descsz < 3 * word + 2)
            continue;
        const char* desc = base + desc_off;
        const char* end = desc + nhdr.n_descsz;
        UsdtSite site;
        if (word == 8)
            std::memcpy(&site.semaphore, desc + 16, 8);
        else {
            uint32_t sem = 0;
            std::memcpy(&sem, desc + 8, 4);
            site.semaphore = sem;
        }
        const char* p = desc + 3 * word;
        const char* provider_end = static_cast<const char*>(std::memchr(p, 0, end - p));
        if (!provider_end)
            continue;
        const char* name = provider_end + 1;
        const char* name_end = static_cast<const char*>(std::memchr(name, 0, end - name));
        if (!name_end)
            continue;
        site.provider.assign(p, provider_end);
        site.name.assign(name, name_end);
        out.push_back(std::move(site));
    }
}

} // namespace

std::expected<ElfBinary, std::string> ElfBinary::open(const std::string& path)
{
    if (elf_version(EV_CURRENT) == EV_NONE)
        return std::unexpected(std::string("libelf is unusable"));
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return std::unexpected(fmt::format("cannot open {}: {}", path, std::strerror(errno)));
    std::unique_ptr<Elf, ElfCloser> elf(elf_begin(fd, ELF_C_READ, nullptr));
    ElfBinary b;
    b.path_ = path;
    auto done = [&](std::expected<ElfBinary, std::string> r) {
        elf.reset();
        ::close(fd);
        return r;
    };
    if (!elf || elf_kind(elf.get()) != ELF_K_ELF)
        return done(std::unexpected(fmt::format("{} is not an ELF file", path)));

    size_t nphdr = 0;
    if (elf_getphdrnum(elf.get(), &nphdr) != 0)
        return done(std::unexpected(fmt::format("{}: reading its program headers: {}", path, elf_errmsg(-1))));
    for (size_t i = 0; i < nphdr; ++i) {
        GElf_Phdr ph;
        if (gelf_getphdr(elf.get(), static_cast<int>(i), &ph) && ph.p_type == PT_LOAD)
            b.segments_.push_back({ph.p_vaddr, ph.p_offset, ph.p_filesz, (ph.p_flags & PF_X) != 0});
    }

    size_t shstrndx = 0;
    if (elf_getshdrstrndx(elf.get(), &shstrndx) != 0)
        return done(std::unexpected(fmt::format("{}: reading its section names: {}", path, elf_errmsg(-1))));
    for (Elf_Scn* scn = nullptr; (scn = elf_nextscn(elf.get(), scn));) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh))
            continue;
        const char* sname = elf_strptr(elf.get(), shstrndx, sh.sh_name);
        if (sh.sh_type == SHT_NOTE && sname && std::strcmp(sname, ".note.stapsdt") == 0) {
            read_stapsdt(elf.get(), scn, b.usdt_);
            continue;
        }
        if (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM)
            continue;
        Elf_Data* data = elf_getdata(scn, nullptr);
        size_t count = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
        for (size_t i = 0; data && i < count; ++i) {
            GElf_Sym sym;
            if (!gelf_getsym(data, static_cast<int>(i), &sym) || sym.st_shndx == SHN_UNDEF || !sym.st_value)
                continue;
            int type = GELF_ST_TYPE(sym.st_info);
            if (type != STT_FUNC && type != STT_GNU_IFUNC)
                continue;
            if (const char* n = elf_strptr(elf.get(), sh.sh_link, sym.st_name); n && *n)
                b.functions_.push_back({n, sym.st_value});
        }
    }
    return done(std::move(b));
}

std::expected<uint64_t, std::string> ElfBinary::symbol_offset(const std::string& symbol) const
{
    for (const Symbol& s : functions_) {
        if (s.name != symbol)
            continue;
        for (const Segment& seg : segments_)
            if (seg.exec && s.vaddr >= seg.vaddr && s.vaddr < seg.vaddr + seg.filesz)
                return s.vaddr - seg.vaddr + seg.offset;
        return std::unexpected(fmt::format("symbol {} of {} is at {:#x}, outside its executable segments", symbol,
                                           path_, s.vaddr));
    }
    return std::unexpected(fmt::format("{} defines no function {} ({} function symbols in its .symtab and .dynsym{})",
                                       path_, symbol, functions_.size(),
                                       functions_.empty() ? ": stripped, give offsets instead" : ""));
}

std::expected<void, std::string> ElfBinary::check_offset(uint64_t offset) const
{
    for (const Segment& seg : segments_)
        if (seg.exec && offset >= seg.offset && offset < seg.offset + seg.filesz)
            return {};
    std::string ranges;
    for (const Segment& seg : segments_)
        if (seg.exec)
            ranges += fmt::format("{}{:#x}-{:#x}", ranges.empty() ? "" : ", ", seg.offset, seg.offset + seg.filesz);
    return std::unexpected(fmt::format("offset {:#x} is not in an executable segment of {} (code at file offsets {})",
                                       offset, path_, ranges.empty() ? "none" : ranges));
}

} // namespace vigil::uprobe
