/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * libtld for C++: a typed key whose value is the calling thread's.
 *
 *	struct hint { std::uint64_t prio; };
 *	static tld::var<hint> h("hint");	// namespace scope: made before main()
 *
 *	h->prio = 7;				// BPF sees it, no syscall
 *	h = hint{3};
 *	if (hint *p = h.get())			// nullptr if it cannot be had
 *		p->prio = 1;
 *
 * get() is tld_get_data(), inlined: the per-thread base pointer libtld
 * caches in a thread_local, plus the key's offset. There is nothing else
 * to cache, so var adds no cost (bench group 1, and the code generated for
 * test/cxx.cpp, compared with the C call).
 *
 * When there is no value (the key could not be made, or the thread cannot
 * register: no map, a full page), get() returns nullptr and libtld prints
 * why once, as in C. operator-> and assignment then throw tld::error, with
 * the negative errno, if exceptions are enabled; without them they write
 * into a per-thread scratch value that BPF never sees, so that a program
 * without the hint channel runs on. A failed key is never fatal at
 * construction: err() says why.
 */
#ifndef TLD_TLD_HPP
#define TLD_TLD_HPP

#include <cstring>
#include <system_error>
#include <type_traits>

#include <tld/tld.h>

namespace tld {

/* Why a value could not be had: code() is the errno, errno_value() negative. */
class error : public std::system_error {
public:
	explicit error(int neg_errno)
		: std::system_error(-neg_errno, std::generic_category(), "tld: no thread data") {}
	int errno_value() const noexcept { return -code().value(); }
};

template <typename T>
class var {
	static_assert(std::is_trivially_copyable<T>::value,
		      "BPF reads the bytes: T must be trivially copyable");
	static_assert(sizeof(T) <= TLD_KEY_SIZE_MAX, "T does not fit a thread's data area");

public:
	explicit var(const char *name) noexcept : key_(tld_create_key(name, sizeof(T))) {}
	var(const var &) = delete;
	var &operator=(const var &) = delete;

	/* The calling thread's value, or nullptr. */
	T *get() const noexcept { return static_cast<T *>(tld_get_data(key_)); }

	T *operator->() const { return checked(); }
	T &operator*() const { return *checked(); }

	var &operator=(const T &v)
	{
		std::memcpy(static_cast<void *>(checked()), &v, sizeof(T));
		return *this;
	}

	/* 0, or the negative errno the key's creation failed with. */
	int err() const noexcept { return tld_key_err(key_); }
	tld_key_t key() const noexcept { return key_; }

private:
	T *checked() const
	{
		T *p = get();

		if (__builtin_expect(p != nullptr, 1))
			return p;
		return missing();
	}

	__attribute__((noinline, cold)) T *missing() const
	{
		int e = err() ?: tld_thread_status() ?: -ENODATA;
#if defined(__cpp_exceptions) || defined(__EXCEPTIONS)
		throw error(e);
#else
		(void)e;
		static thread_local T scratch;
		return &scratch;
#endif
	}

	tld_key_t key_;
};

} /* namespace tld */

#endif /* TLD_TLD_HPP */
